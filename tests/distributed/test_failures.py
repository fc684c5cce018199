"""What may die during a crawl over Redis, and what it costs: a worker killed with SIGKILL (its
requests go to another worker after the visibility timeout, fetched twice at most once), the
writer killed with SIGKILL (nothing lost, nothing doubled), Redis stopped and started again
(everyone waits, says so in one line, and goes on)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.distributed.support import (
    FAST,
    RedisServer,
    feed_ids,
    page_paths,
    picture,
    rows,
    run,
    settings_args,
    start,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.slow

TITLES = (1, 2, 3)
FEEDS = {("anime", t): feed_ids(t, 100) for t in TITLES}
IDS = ",".join(map(str, TITLES))
SLOW = 0.15
"""Seconds each page takes to answer: a crawl of the 15 pages is a few seconds long."""
VISIBILITY = 1.5
OUTAGE = 2.0


def publish(site: ScratchSite, slow: bool = True) -> None:
    faults = {
        ("anime", t, page): [Fault("delay", seconds=SLOW)] for t in TITLES for page in range(1, 6)
    }
    site.publish(FEEDS, faults=faults if slow else None)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path) -> dict[str, Any]:
    """The archive one local crawl makes (pages' fetch counts included)."""
    folder = tmp_path_factory.mktemp("local")
    with ScratchSite(folder / "site", mal_fixtures) as site:
        publish(site, slow=False)
        result = run(
            "crawl", "mal", "--anime", IDS, "--mode", "full", "--db", "archive.db",
            "--base-url", site.url, *settings_args(FAST), cwd=folder,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = picture(folder / "archive.db")
    assert len(made["reviews"]) == 300 and len(made["pages"]) == 15
    return made


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        publish(scratch)
        yield scratch


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path / "redis").start()
    yield redis
    redis.stop(kill=True)


def submit(
    site: ScratchSite, server: RedisServer, folder: Path, visibility: float = VISIBILITY
) -> Any:
    settings = {**FAST, "HOARD_REDIS_VISIBILITY": visibility}
    return start(
        "crawl", "mal", "--anime", IDS, "--mode", "full", "--db", "archive.db",
        "--base-url", site.url, *settings_args(settings), "--redis", server.url, cwd=folder,
    )  # fmt: skip


def served(site: ScratchSite, log: list[dict[str, Any]]) -> int:
    log += site.take_log()
    return len(page_paths(log))


def test_a_worker_killed_loses_nothing_and_its_requests_go_to_another(
    site: ScratchSite, server: RedisServer, tmp_path: Path, reference: dict[str, Any]
) -> None:
    submitter = submit(site, server, tmp_path)
    writer = start("write", "--redis", server.url, "--db", "archive.db", cwd=tmp_path)
    doomed = start("worker", "--redis", server.url, cwd=tmp_path)
    log: list[dict[str, Any]] = []
    wait_until(lambda: served(site, log) >= 3, 60, "pages served", [doomed])
    doomed.kill()  # SIGKILL: holding a request (one in flight, one waiting for the host)
    doomed.communicate()
    survivor = start("worker", "--redis", server.url, cwd=tmp_path)
    try:
        status = submitter.wait(90)
        out, err = submitter.communicate()
    finally:
        others = stop_all([writer, survivor])
    assert status == 0, err
    assert "3 feed(s), 15 page(s), 300 review(s) (300 new" in out
    assert picture(tmp_path / "archive.db") == reference
    log += site.take_log()
    twice = [p for p, n in Counter(page_paths(log)).items() if n > 1]
    assert len(twice) <= 1, twice  # only the page whose answer died with the worker
    assert all(s == 143 for s, _, _ in others), others


def test_the_writer_killed_loses_nothing_and_doubles_nothing(
    site: ScratchSite, server: RedisServer, tmp_path: Path, reference: dict[str, Any]
) -> None:
    db = tmp_path / "archive.db"
    submitter = submit(site, server, tmp_path)
    workers = [start("worker", "--redis", server.url, cwd=tmp_path) for _ in range(2)]
    first = start("write", "--redis", server.url, "--db", "archive.db", cwd=tmp_path)
    second = first
    try:
        wait_until(
            lambda: db.exists() and rows(db, "SELECT count(*) FROM reviews") >= [(60,)],
            60, "reviews stored", [first],
        )  # fmt: skip
        first.kill()
        first.communicate()
        time.sleep(1.0)  # captures pile up in Redis meanwhile
        second = start("write", "--redis", server.url, "--db", "archive.db", cwd=tmp_path)
        assert submitter.wait(90) == 0, submitter.communicate()
        out = submitter.communicate()[0]
    finally:
        results = stop_all([*workers, second])
    assert all(s == 143 for s, _, _ in results), results
    assert "300 review(s)" in out
    assert picture(db) == reference  # each page stored once, fetched once; no review doubled
    assert rows(db, "SELECT outcome FROM crawls ORDER BY id") == [("killed",), ("ok",)]


def test_redis_stopped_and_started_again_costs_a_wait_not_a_capture(
    site: ScratchSite, server: RedisServer, tmp_path: Path, reference: dict[str, Any]
) -> None:
    # A visibility timeout longer than the outage: no live worker's request is taken over.
    submitter = submit(site, server, tmp_path, visibility=OUTAGE * 3)
    writer = start("write", "--redis", server.url, "--db", "archive.db", cwd=tmp_path)
    workers = [start("worker", "--redis", server.url, cwd=tmp_path) for _ in range(2)]
    log: list[dict[str, Any]] = []
    try:
        wait_until(lambda: served(site, log) >= 5, 60, "pages served", workers)
        server.stop()  # SIGTERM: the append-only file is flushed, as on a restart
        time.sleep(OUTAGE)
        server.start()
        assert submitter.wait(90) == 0, submitter.communicate()
        out, submitter_err = submitter.communicate()
    finally:
        results = stop_all([writer, *workers])
    assert "3 feed(s), 15 page(s), 300 review(s) (300 new" in out
    assert picture(tmp_path / "archive.db") == reference
    for status, _, err in results:
        assert status == 143, err
        said = [line for line in err.splitlines() if "is unreachable" in line]
        assert len(said) == 1, err  # one line each, then quiet until Redis is back
        assert said[0].startswith(("hoard worker: Redis at", "hoard write: Redis at"))
        assert "Traceback" not in err, err
    assert len([x for x in submitter_err.splitlines() if "is unreachable" in x]) <= 1
