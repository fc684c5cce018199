"""SIGTERM and SIGINT to a real `hoard update`: a graceful stop that stores what was fetched,
records the run as interrupted, exits 143/130, and lets the next run finish the work."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.replay.harness import review_page_requests
from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.e2e.update_support import (
    count,
    integrity,
    rows,
    run_hoard,
    start_hoard,
    wait_for_lock,
    write_config,
)

pytestmark = pytest.mark.slow

IDS = list(range(8100, 8000, -1))  # 5 pages of 20


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def wait_for_page(site: ScratchSite, page: int, timeout: float = 30) -> None:
    """Until the site has been asked for `page` of the feed."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        seen += review_page_requests(site.take_log())
        if any(str(e["query"]).endswith(f"p={page}") for e in seen):
            return
        time.sleep(0.05)
    raise AssertionError(f"page {page} never asked for: {seen}")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_gracefully_and_the_next_run_completes(
    site: ScratchSite, tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    site.publish({("anime", 1): IDS}, faults={("anime", 1, 3): [Fault("delay", seconds=4)]})
    config = write_config(tmp_path, site.url, '[[watch]]\nsite = "mal"\nanime = [1]\n')
    db = tmp_path / "archive.db"
    run = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    wait_for_lock(db, run)
    wait_for_page(site, 3)  # pages 1 and 2 are in; page 3 is in flight
    run.send_signal(signum)
    out, err = run.communicate(timeout=30)
    assert run.returncode == status, err
    got = re.fullmatch(
        r"hoard update: interrupted: reviews (\d+) new, 0 updated, 0 unchanged, 0 gone; "
        rf"(\d) pages, 0 errors, 0 alarms; \d+\.\d s, crawl 1; exit {status}\n",
        out,
    )
    assert got, out
    # Pages 1-2 were in, page 3 in flight: a graceful stop stores what is in flight too (and
    # Scrapy may still fetch what its callbacks asked for while closing).
    stored, pages = int(got[1]), int(got[2])
    assert 40 <= stored <= 100 and stored == 20 * pages
    [(outcome, reason, new, feeds)] = rows(
        db, "SELECT outcome, finish_reason, reviews_new, feeds FROM crawls"
    )
    # Scrapy's finish reason is "shutdown", or "finished" when the feed's last page came in
    # while it was closing; either way the signal makes the run interrupted, its feeds unfinished.
    assert (outcome, new) == ("interrupted", stored) and reason in ("shutdown", "finished")
    assert json.loads(feeds)["anime:1"]["complete"] is False
    assert count(db, "reviews") == stored
    assert integrity(db) == "ok"

    site.publish({("anime", 1): IDS})
    again = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"reviews {100 - stored} new, 0 updated, {stored} unchanged" in again.stdout
    assert {r for (r,) in rows(db, "SELECT review_id FROM reviews")} == {str(i) for i in IDS}


def test_ctrl_c_stops_scheduling_at_once_and_exits_within_5_seconds(
    site: ScratchSite, tmp_path: Path
) -> None:
    """31 feeds behind a 1 s politeness delay: a graceful stop does not fetch the queued pages
    one delay after another; it drops them (the next run fetches them) and says so."""
    titles = {("anime", n): [9000 + n] for n in range(1, 32)}
    site.publish(titles)
    ids = ", ".join(str(n) for n in range(1, 32))
    config = write_config(
        tmp_path,
        site.url,
        f'[[watch]]\nsite = "mal"\nanime = [{ids}]\n',
        settings="CONCURRENT_REQUESTS_PER_DOMAIN = 1\n",
    )
    text = config.read_text().replace("DOWNLOAD_DELAY = 0", "DOWNLOAD_DELAY = 1")
    config.write_text(text)
    db = tmp_path / "archive.db"
    run = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    wait_for_lock(db, run)
    wait_for_page(site, 1)
    time.sleep(1.5)
    stopped_at = time.monotonic()
    run.send_signal(signal.SIGINT)
    _out, err = run.communicate(timeout=60)
    took = time.monotonic() - stopped_at
    assert run.returncode == 130, err
    assert took < 5, f"took {took:.1f} s to stop"
    assert "queued request(s) dropped" in err and "press Ctrl-C again to stop now" in err
    assert rows(db, "SELECT outcome FROM crawls") == [("interrupted",)]
    assert 0 < count(db, "reviews") < 31
