"""A page the parser cannot read whole is refused, never half-read, through the real command:
`hoard import` of a reviews tab with deeply nested markup between two review blocks."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.update_support import run_hoard as hoard


@pytest.fixture
def page(mal_fixtures: Path) -> Path:
    return mal_fixtures / "anime-1-reviews-2022-10.html"


def nested(page: Path, depth: int) -> bytes:
    body = page.read_bytes()
    at = [m.start() for m in re.finditer(rb'<div class="review-element', body)][10]
    return body[:at] + b"<div>" * depth + b"x" + b"</div>" * depth + body[at:]


def test_import_reads_a_deep_page_whole_or_refuses_it_never_half(
    tmp_path: Path, page: Path
) -> None:
    """Issue 10 item 2 through the real command: 300 nested <div>s between two review blocks
    (past libxml2's default depth of 256) still give all 20 reviews; a page past the parser's
    raised limit is refused in one line and nothing of it is stored."""
    readable, too_deep = tmp_path / "deep.html", tmp_path / "too-deep.html"
    readable.write_bytes(nested(page, 300))
    too_deep.write_bytes(nested(page, 2100))
    db = tmp_path / "a.db"
    refused = hoard("import", str(too_deep), "--db", str(db), cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"hoard: {too_deep}: ") and refused.stderr.count("\n") == 1
    assert "nests elements deeper than the HTML parser reads" in refused.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM reviews").fetchone() == (0,)
    read = hoard("import", str(readable), "--db", str(db), cwd=tmp_path)
    assert read.returncode == 0, read.stderr
    assert read.stdout.startswith("imported 1 page: 20 reviews new")
