"""With a writer thread, `early_batch` writes what waits as soon as the thread is free (whole
pages only), so `hoard import --jobs 2` is not left with a full batch to write alone at the end;
without it, nothing is written before a batch is full."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.items import Capture
from tests.archive.test_capture_writer import saved_captures

PAGES = (  # three titles: 20 reviews each, no review on two pages
    "saved:anime-1-reviews-2022-10.html",
    "saved:anime-32995-reviews-2017-old.html",
    "saved:manga-1-reviews-2026-01.html",
)


def three_pages() -> list[Capture]:
    by_feed = {c.feed: c for c in saved_captures()}
    pages = [by_feed[name] for name in PAGES]
    assert [len(c.reviews) for c in pages] == [20, 20, 20]
    return pages


def committed(db: Path) -> tuple[int, int]:
    """(pages, reviews) another connection sees committed."""
    with sqlite3.connect(db) as reader:
        pages = reader.execute("SELECT count(*) FROM pages").fetchone()[0]
        reviews = reader.execute("SELECT count(*) FROM reviews").fetchone()[0]
    return pages, reviews


@pytest.mark.parametrize(("early", "before_the_end"), [(30, (2, 40)), (0, (0, 0))])
def test_a_free_writer_thread_writes_whole_pages_before_a_batch_is_full(
    tmp_path: Path, early: int, before_the_end: tuple[int, int]
) -> None:
    db = tmp_path / "archive.db"
    writer = ArchiveWriter(str(db), command="test", args={}, background=True, early_batch=early)
    first, second, third = three_pages()
    writer.write(first)
    writer.write(second)
    assert committed(db) == (0, 0)  # 20 reviews waiting: under the early batch
    writer.write(third)  # 40 waiting when its page arrives, and the thread is free
    in_flight = writer.ctx._in_flight
    if in_flight is not None:
        in_flight.result()
    assert committed(db) == before_the_end  # the third page waits whole for the next batch
    counts = writer.counts()
    writer.finish()
    assert committed(db) == (3, 60)
    assert (counts["reviews_new"], counts["reviews_rejected"]) == (60, 0)


def test_without_a_writer_thread_there_are_no_early_batches(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    writer = ArchiveWriter(str(db), command="test", args={}, early_batch=30)
    for capture in three_pages():
        writer.write(capture)
    assert committed(db) == (0, 0)
    writer.finish()
    assert committed(db) == (3, 60)
