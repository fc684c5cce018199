"""Overlapping real runs on one archive: the second `hoard update` or `hoard crawl` exits 75 at
once and touches nothing; a SIGKILLed holder never blocks the next run."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.e2e.update_support import (
    count,
    rows,
    run_hoard,
    start_hoard,
    wait_for_lock,
    write_config,
)

pytestmark = pytest.mark.slow

WATCH = '[[watch]]\nsite = "mal"\nanime = [1]\n'
IDS = list(range(3060, 3000, -1))  # 3 pages


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def test_second_update_and_crawl_exit_75_at_once_while_a_run_holds_the_archive(
    site: ScratchSite, tmp_path: Path
) -> None:
    site.publish({("anime", 1): IDS}, faults={("anime", 1, 2): [Fault("delay", seconds=6)]})
    config = write_config(tmp_path, site.url, WATCH)
    db = tmp_path / "archive.db"
    first = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    try:
        wait_for_lock(db, first)
        started = time.monotonic()
        seconds = [  # both at once, while the holder waits for its slow page 2
            start_hoard("update", "-q", "--config", str(config), cwd=tmp_path),
            start_hoard(
                "crawl", "mal", "--anime", "1", "--db", "archive.db", "--base-url", site.url,
                cwd=tmp_path,
            ),
        ]  # fmt: skip
        for second in seconds:
            out, err = second.communicate(timeout=30)
            assert (second.returncode, out) == (75, ""), err
            assert re.fullmatch(
                rf"hoard: another run holds the archive \(pid {first.pid}, since "
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\): \S*archive\.db; this run did nothing, "
                r"try again later \(lock file: \S*archive\.db\.lock\)\n",
                err,
            )
        took = time.monotonic() - started
        assert took < 5, f"refusals took {took:.1f} s"  # neither waited for the holder
        assert first.poll() is None  # the holder was still running all along
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert "reviews 60 new" in out
    # Only the holder's run is recorded; the refused ones left no trace.
    assert rows(db, "SELECT id, command, outcome FROM crawls") == [
        (1, f"hoard update --config {config}", "ok")
    ]
    after = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert after.returncode == 0, after.stderr


def test_a_sigkilled_run_does_not_block_the_next(site: ScratchSite, tmp_path: Path) -> None:
    site.publish({("anime", 1): IDS}, faults={("anime", 1, 2): [Fault("delay", seconds=30)]})
    config = write_config(tmp_path, site.url, WATCH)
    db = tmp_path / "archive.db"
    first = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    wait_for_lock(db, first)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    site.publish({("anime", 1): IDS})
    result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert count(db, "reviews") == 60
    outcomes = rows(db, "SELECT id, outcome FROM crawls ORDER BY id")
    assert outcomes[-1][1] == "ok"
    assert all(outcome == "killed" for _, outcome in outcomes[:-1])
