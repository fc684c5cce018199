"""SIGKILL at random moments (seeded): real `hoard update` processes against a slowed replay site,
killed while starting, crawling, writing or closing. After every kill the archive passes
`PRAGMA integrity_check`; the one run after the kills completes the work, and the archive then
equals one made by a single clean run: the same reviews and versions, nothing lost or doubled."""

from __future__ import annotations

import os
import random
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.e2e.update_support import (
    count,
    integrity,
    picture,
    rows,
    run_hoard,
    start_hoard,
    wait_for_reviews,
    write_config,
)

pytestmark = pytest.mark.slow

FEEDS = {("anime", 1): list(range(9200, 9000, -1)), ("manga", 2): list(range(9560, 9500, -1))}
WATCHES = '[[watch]]\nsite = "mal"\nanime = [1]\nmanga = [2]\n'
# A write per page (not per 500 reviews) so kills land inside and between transactions.
SETTINGS = "HOARD_STORE_BATCH = 20\n"
KILLS_PER_SEED = 4
SLOW = 0.25
"""Seconds each page takes: a run is about 4 s with the process start."""


def publish(site: ScratchSite, slow: bool) -> None:
    faults = {
        (kind, ident, page): [Fault("delay", seconds=SLOW)]
        for (kind, ident), ids in FEEDS.items()
        for page in range(1, len(ids) // 20 + 1)
    }
    site.publish(FEEDS, faults=faults if slow else None)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path) -> dict[str, Any]:
    """The archive one clean run makes."""
    folder = tmp_path_factory.mktemp("clean")
    with ScratchSite(folder / "site", mal_fixtures) as site:
        publish(site, slow=False)
        config = write_config(folder, site.url, WATCHES, SETTINGS)
        result = run_hoard("update", "-q", "--config", str(config), cwd=folder)
    assert result.returncode == 0, result.stderr
    made = picture(folder / "archive.db")
    assert len(made["reviews"]) == 260 and len(made["versions"]) == 260
    return made


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    site: ScratchSite, tmp_path: Path, reference: dict[str, Any], seed: int
) -> None:
    rng = random.Random(seed)
    publish(site, slow=True)
    config = write_config(tmp_path, site.url, WATCHES, SETTINGS)
    db = tmp_path / "archive.db"
    moments = []
    for _ in range(KILLS_PER_SEED):
        after = rng.uniform(0.3, 3.5)
        run = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
        time.sleep(after)
        finished = run.poll() is not None
        run.send_signal(signal.SIGKILL)
        run.communicate()
        stored = count(db, "reviews") if db.exists() else 0
        moments.append((round(after, 2), "finished first" if finished else "killed", stored))
        if db.exists():
            assert integrity(db) == "ok", moments
    print(f"seed {seed}: kills (seconds after start, what, reviews stored): {moments}")

    # One run after the kills completes the work.
    result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert integrity(db) == "ok"
    assert picture(db) == reference
    outcomes = [outcome for (outcome,) in rows(db, "SELECT outcome FROM crawls ORDER BY id")]
    assert outcomes[-1] == "ok"
    assert "running" not in outcomes  # the next run closed what the killed ones left open
    assert set(outcomes[:-1]) <= {"killed", "ok", "partial"}


def writer_child(parent: int, timeout: float = 20) -> int:
    """The pid of the crawl's writer process (a spawned child of `parent`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{parent}/task").glob("*"):
            for pid in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                if b"writer_process" in cmdline:
                    return int(pid)
        time.sleep(0.05)
    raise AssertionError("no writer process appeared")


def test_a_killed_writer_process_fails_the_run_and_the_next_run_completes_it(
    site: ScratchSite, tmp_path: Path, reference: dict[str, Any]
) -> None:
    publish(site, slow=True)
    config = write_config(tmp_path, site.url, WATCHES, SETTINGS)
    db = tmp_path / "archive.db"
    run = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    child = writer_child(run.pid)
    # Some pages committed, and the crawl told so (a batch's counts come with the next one).
    wait_for_reviews(db, 60, run)
    time.sleep(0.3)
    os.kill(child, signal.SIGKILL)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 74, out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        f"hoard: archive write failed: the archive's writer process died (signal 9) at {db}"
    ), err
    after = re.search(r"; nothing after (\S+) was stored$", last)
    assert after is not None, last  # the last page the writer said it had committed
    assert rows(db, "SELECT count(*) FROM pages WHERE url = ?", after.group(1)) == [(1,)]
    assert integrity(db) == "ok"
    outcomes = [outcome for (outcome,) in rows(db, "SELECT outcome FROM crawls ORDER BY id")]
    assert outcomes == ["failed"]

    result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert picture(db) == reference
