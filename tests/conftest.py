"""Shared test helpers: where the saved pages are.

Saved pages are read from ../shared/fixtures (or $REVIEW_FIXTURES), never copied into the project.
When the folder is missing the fixture tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """The folder of saved pages; skips (or fails under CI) the calling test when it is missing."""
    path = Path(os.environ.get("REVIEW_FIXTURES") or ROOT.parent / "shared" / "fixtures")
    if not (path / "myanimelist").is_dir():
        message = f"saved pages not found at {path} (set $REVIEW_FIXTURES)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The saved-pages folder (../shared/fixtures or $REVIEW_FIXTURES)."""
    return fixtures_dir()


@pytest.fixture(scope="session")
def mal_fixtures(fixtures: Path) -> Path:
    """The saved MyAnimeList pages."""
    return fixtures / "myanimelist"
