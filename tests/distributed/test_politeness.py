"""Politeness holds across all workers together (the replay site's request log is the witness):
one request at a time per host and the site's delay between two, whatever the number of
workers; robots.txt obeyed; a 429 with Retry-After pauses the host for every worker."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.distributed.support import (
    FAST,
    RedisServer,
    feed_ids,
    run,
    settings_args,
    start,
    stop_all,
)

pytestmark = pytest.mark.slow

DELAY = 0.25
RETRY_AFTER = 2
ROBOTS = "User-agent: *\nDisallow: /anime/4/\n"


def test_three_workers_ask_one_host_one_thing_at_a_time_with_its_delay(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    feeds = {("anime", t): feed_ids(t, 60) for t in (1, 2, 3, 4)}
    faults = {("anime", 2, 2): [Fault("429", times=1, retry_after=str(RETRY_AFTER))]}
    settings = {**FAST, "DOWNLOAD_DELAY": DELAY}
    with ScratchSite(tmp_path / "site", mal_fixtures, robots_txt=ROBOTS) as site:
        site.publish(feeds, faults=faults)
        local = run(
            "crawl", "mal", "--anime", "1,2,3,4", "--mode", "full", "--db", "local.db",
            "--base-url", site.url, *settings_args(settings), cwd=tmp_path,
        )  # fmt: skip
        site.take_log()
        site.publish(feeds, faults=faults)  # the 429 again, for the workers
        workers = [start("worker", "--redis", server.url, cwd=tmp_path) for _ in range(3)]
        try:
            shared = run(
                "crawl", "mal", "--anime", "1,2,3,4", "--mode", "full", "--db", "shared.db",
                "--base-url", site.url, *settings_args(settings), "--redis", server.url,
                "--workers", "1", cwd=tmp_path, timeout=120,
            )  # fmt: skip
        finally:
            results = stop_all(workers)
            server.stop(kill=True)
        log = site.take_log()
    # Robots.txt disallows anime 4: the same partial run (exit 1) as a local crawl.
    assert local.returncode == shared.returncode == 1, (local.stderr, shared.stderr)
    assert "4 feed(s), 9 page(s), 180 review(s) (180 new" in shared.stdout
    pages = [e for e in log if e["path"] != "/robots.txt"]
    assert len(pages) == 3 * 3 + 1  # nine pages, one of them asked twice (the 429)
    assert not [e for e in log if e["path"].startswith("/anime/4/")]
    assert sum(1 for e in log if e["path"] == "/robots.txt") >= 1
    # An honest User-Agent from every worker.
    agents = {e["user_agent"] for e in pages}
    assert len(agents) == 1 and "reviewhoard" in agents.pop()
    # One host, one request at a time, the delay between two: from every worker together.
    times = [e["time"] for e in log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= DELAY * 0.95, gaps
    # The 429 paused the host for everyone for its Retry-After.
    throttled = next(i for i, e in enumerate(log) if e["status"] == 429)
    assert log[throttled + 1]["time"] - log[throttled]["time"] >= RETRY_AFTER * 0.95
    for status, _, err in results:
        assert status == 143, err
