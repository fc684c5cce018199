"""The archive's memory of per-feed counts, which the "feed went empty" alarm compares with."""

from __future__ import annotations

from pathlib import Path

from reviewhoard.archive.queries import feed_history, unfinished_feeds
from reviewhoard.archive.store import open_archive, read_connection


def test_feed_history_is_the_latest_earlier_crawl_that_yielded_reviews(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with open_archive(db) as archive:
        first = archive.start_crawl("hoard update")
        archive.record_crawl_feeds(
            first, {"anime:1": {"pages": 2, "reviews": 40, "blocks": 40}, "recent:anime": {}}
        )
        second = archive.start_crawl("hoard update")
        archive.record_crawl_feeds(second, {"anime:1": {"pages": 1, "reviews": 0, "blocks": 0}})
        third = archive.start_crawl("hoard update")
        archive.record_crawl_feeds(third, {"anime:1": {"pages": 1, "reviews": 20, "blocks": 20}})
    conn = read_connection(db)
    try:
        # Judging the third run: the second yielded nothing, so the first is the memory.
        assert feed_history(conn, ["anime:1", "recent:anime", "manga:1"], third) == {
            "anime:1": {"pages": 2, "reviews": 40, "blocks": 40}
        }
        assert feed_history(conn, ["anime:1"]) == {
            "anime:1": {"pages": 1, "reviews": 20, "blocks": 20}
        }
        assert feed_history(conn, ["anime:1"], first) == {}
    finally:
        conn.close()


def test_unfinished_feeds_are_those_whose_latest_crawl_did_not_complete(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with open_archive(db) as archive:
        done = archive.start_crawl("hoard update")
        archive.record_crawl_feeds(
            done, {"anime:1": {"complete": True}, "anime:2": {"complete": True}}
        )
        archive.finish_crawl(done, "ok")
        killed = archive.start_crawl("hoard update --config hoard.toml")
        archive.record_crawl_feeds(killed, {"anime:2": {"complete": False}})
        importing = archive.start_crawl("hoard import")  # imports hold the run lock too
        serving = archive.start_crawl("hoard serve")  # no lock: may be alive, left alone
        assert archive.close_abandoned_crawls() == [killed, importing]
        assert archive.close_abandoned_crawls() == []
    conn = read_connection(db)
    try:
        assert unfinished_feeds(conn, ["anime:1", "anime:2", "anime:3"]) == {"anime:2"}
        assert unfinished_feeds(conn, ["anime:1", "anime:2"], killed) == set()
        outcomes = conn.execute("SELECT id, outcome FROM crawls ORDER BY id").fetchall()
        assert outcomes == [
            (done, "ok"),
            (killed, "killed"),
            (importing, "killed"),
            (serving, "running"),
        ]
    finally:
        conn.close()
