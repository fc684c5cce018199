"""Edges of a real crawl that unit tests alone covered: an unreadable `Retry-After` header is
waited out with the usual backoff (no traceback, nothing lost), and a page limit the user sets
(`-s CLOSESPIDER_PAGECOUNT=1`) ends the run as ok, not as an alarm."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from reviewhoard.replay.harness import run_crawl
from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite

pytestmark = pytest.mark.slow

IDS = list(range(9060, 9000, -1))  # 60 reviews: 3 pages


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def stored(db: Path) -> int:
    return int(sqlite3.connect(db).execute("SELECT count(*) FROM reviews").fetchone()[0])


def test_an_unreadable_retry_after_is_waited_out_and_nothing_is_lost(
    site: ScratchSite, tmp_path: Path
) -> None:
    site.publish({("anime", 1): IDS}, faults={("anime", 1, 2): [Fault("429", 1, 0.0, "²")]})
    db = tmp_path / "a.db"
    done = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and done.stderr == ""
    assert done.stdout.startswith("crawl 1: 1 feed(s), 3 page(s), 60 review(s) (60 new")
    assert stored(db) == 60
    requests = [e for e in site.take_log() if e["path"].endswith("/reviews")]
    pages = [(parse_qs(e["query"]).get("p", ["1"])[0], e["status"]) for e in requests]
    assert pages == [
        ("1", 200),
        ("2", 429),
        ("2", 200),
        ("3", 200),
    ]


def test_a_page_limit_the_user_set_ends_the_run_ok_not_as_an_alarm(
    site: ScratchSite, tmp_path: Path
) -> None:
    site.publish({("anime", 1): IDS})
    db = tmp_path / "a.db"
    done = run_crawl(db, site.url, ["--anime", "1"], {"CLOSESPIDER_PAGECOUNT": "1"}, site="mal")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert "ok (closespider_pagecount)" in done.stdout, done.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT outcome, alarms FROM crawls").fetchall()[0][0] == "ok"
    assert 0 < stored(db) < 60  # stopped early, as asked
