"""`hoard reparse`'s writes (`Archive.write(..., reread=True)`): a review read again exactly as it
is archived takes the batched path (its seen times, its subject and author as the one-by-one path
records them); the archive comes out the same as when every review goes one by one."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from reviewhoard.archive.store import Archive
from reviewhoard.items import RawPage, Review
from tests.archive.test_store import NEW, NEW_AT, OLD, OLD_AT, raw_page, records, rows
from tests.archive_tables import assert_same_archive

LATER_AT = "2024-01-01T00:00:00Z"


def page(folder: Path, name: str, at: str, tail: bytes = b"") -> RawPage:
    first = raw_page(folder, name, at)
    return dataclasses.replace(first, body=first.body + tail)


def titled(reviews: list[Review], title: str) -> list[Review]:
    return [
        dataclasses.replace(r, subject=dataclasses.replace(r.subject, title=title)) for r in reviews
    ]


def captures(folder: Path) -> list[list[Any]]:
    """Pages in the order they were fetched: the new layout first, the old one imported late
    (authors renamed since, texts edited since), the new page again later (other bytes); the
    title under each page's own name at the time."""
    return [
        [page(folder, NEW, NEW_AT), *titled(records(folder, NEW), "Cowboy Bebop")],
        [page(folder, OLD, OLD_AT), *titled(records(folder, OLD), "Cowboy Bebop (2018)")],
        [page(folder, NEW, LATER_AT, b" "), *titled(records(folder, NEW), "Cowboy Bebop (2024)")],
    ]


def test_reviews_read_again_unchanged_leave_the_archive_as_the_one_by_one_path_does(
    mal_fixtures: Path, tmp_path: Path
):
    fast, slow = tmp_path / "fast.db", tmp_path / "slow.db"
    with Archive(fast) as archive:
        for entries in captures(mal_fixtures):
            archive.write(entries)
    shutil.copy(fast, slow)
    # Unknown observation hashes: every review of `slow` goes through `_store_review`.
    conn = sqlite3.connect(slow)
    conn.execute("UPDATE reviews SET observed_hash = 'forced ' || observed_hash")
    conn.commit()
    conn.close()
    outcomes, one_by_one = {}, {}
    for db in (fast, slow):
        with Archive(db) as archive:
            statements: list[str] = []
            archive.conn.set_trace_callback(statements.append)
            results = [archive.write(entries, reread=True) for entries in captures(mal_fixtures)]
            archive.conn.set_trace_callback(None)
        outcomes[db] = [(r.new, r.updated, r.unchanged, r.pages_stored) for r in results]
        one_by_one[db] = sum(sql.startswith("SELECT rowid, version_count, ") for sql in statements)
    assert outcomes[fast] == outcomes[slow]
    assert outcomes[fast] == [(0, 0, 20, 0), (0, 0, 20, 0), (0, 0, 20, 0)]
    # The batched path was taken where it may be: every review of `slow` was looked up on its
    # own; of `fast`'s, only the 36 read from a page older than when they were last seen (the
    # 2022 page's 20 and the 16 of the 2018 page seen again in 2024), which go one by one.
    assert (one_by_one[fast], one_by_one[slow]) == (36, 60)
    assert_same_archive(slow, fast, any_order=True)
    assert rows(fast, "SELECT title FROM subjects") == [("Cowboy Bebop (2024)",)]
