"""A review a list page shows cut (Letterboxd's "more") and its whole text from its own page:
the archive holds one version whose text is the whole review, in whichever order they come, and
update mode knows the cut form again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewhoard.archive.known import KnownReviews
from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.items import Capture
from reviewhoard.sites import all_sites
from tests.conftest import fixtures_dir

LIST_URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/"
CUT_ID = "1401220676"
FRAGMENT_URL = f"https://letterboxd.com/s/full-text/viewing:{CUT_ID}/"


def list_capture(at: str) -> Capture:
    site = all_sites()["letterboxd"]
    body = (
        fixtures_dir() / "letterboxd" / "film-oppenheimer-2023-reviews-2026-07.html"
    ).read_bytes()
    parsed = site.parser.parse(body, LIST_URL)
    return Capture(LIST_URL, LIST_URL, 200, {}, body, at, site.key, "1", reviews=parsed.reviews)


def fragment_capture(at: str) -> Capture:
    site = all_sites()["letterboxd"]
    body = (fixtures_dir() / "letterboxd" / f"full-text-viewing-{CUT_ID}.html").read_bytes()
    completions = site.read_follow_up(body, FRAGMENT_URL)
    return Capture(FRAGMENT_URL, FRAGMENT_URL, 200, {}, body, at, site.key, "1",
                   completions=completions)  # fmt: skip


def write(db: Path, *captures: Capture) -> dict[str, int]:
    writer = ArchiveWriter(str(db), command="test")
    for capture in captures:
        writer.write(capture)
    writer.finish()
    return dict(writer.stats)


@pytest.mark.parametrize("order", ["list-first", "fragment-first"])
def test_one_version_holds_the_whole_text(tmp_path: Path, order: str) -> None:
    listed, fragment = (
        list_capture("2026-07-01T00:00:00Z"),
        fragment_capture("2026-07-01T00:00:01Z"),
    )
    cut = next(r for r in listed.reviews if r.review_id == CUT_ID)
    assert cut.extra["text_truncated"] is True
    whole = fragment.completions[0].text
    assert whole.startswith(cut.text) and len(whole) > len(cut.text) + 20
    db = tmp_path / "archive.db"
    captures = (listed, fragment) if order == "list-first" else (fragment, listed)
    write(db, *captures)
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT text, version_count, json_extract(extra, '$.text_truncated') FROM reviews "
        "WHERE review_id = ?",
        (CUT_ID,),
    ).fetchall() == [(whole, 1, 0)]
    versions = conn.execute(
        "SELECT count(*) FROM review_versions WHERE review_id = ?", (CUT_ID,)
    ).fetchone()
    assert versions == (1,)
    assert conn.execute("SELECT count(*) FROM text_completions").fetchone() == (0,)
    found = conn.execute(
        "SELECT r.review_id FROM reviews_fts JOIN reviews r ON r.rowid = reviews_fts.rowid "
        "WHERE reviews_fts MATCH ?",
        (f'"{whole.split()[-1].strip(".,!?")}"',),
    ).fetchall()
    assert (CUT_ID,) in found

    # The list page seen again (cut, as always): unchanged, and update mode knows it.
    again = write(db, list_capture("2026-07-02T00:00:00Z"))
    assert again.get("hoard/reviews_unchanged") == 12 and not again.get("hoard/reviews_updated")
    assert conn.execute(
        "SELECT text, version_count FROM reviews WHERE review_id = ?", (CUT_ID,)
    ).fetchall() == [(whole, 1)]
    assert KnownReviews.read(db, "letterboxd")(list_capture("2026-07-03T00:00:00Z").reviews)
