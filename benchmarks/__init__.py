"""`make bench`: one module a part (`bench_*.py`); `__main__.py` runs them. What several parts
share lives here."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """The saved pages (../shared/fixtures, or $REVIEW_FIXTURES)."""
    return Path(os.environ.get("REVIEW_FIXTURES") or ROOT.parent / "shared" / "fixtures")


def write_pages(bodies: list[bytes], folder: Path) -> list[str]:
    """The bodies as saved pages `page-NNNNN.html` in `folder`; their paths, in order."""
    paths = []
    for n, body in enumerate(bodies):
        path = folder / f"page-{n:05d}.html"
        path.write_bytes(body)
        paths.append(str(path))
    return paths


def made_up_pages(count: int, first: int) -> list[bytes]:
    """`count` distinct MyAnimeList reviews tabs of 20 reviews each, review ids from `first`,
    made from the saved 2022 page."""
    from reviewhoard.sites.myanimelist.synth import load_template

    template = load_template(fixtures_dir() / "myanimelist" / "anime-1-reviews-2022-10.html")
    return [
        template.render(list(range(first + n * 20, first + (n + 1) * 20)), None)
        for n in range(count)
    ]
