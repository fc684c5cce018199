"""Readers are never blocked: a `sqlite3` reader and a real Datasette (`hoard serve`) polling the
archive while a write-heavy `hoard update` runs see consistent counts and never "database is
locked"; the write-ahead log stays bounded during the run and is emptied at its end."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.e2e.update_support import run_hoard, start_hoard, write_config
from tests.serving import hoard_serve

pytestmark = pytest.mark.slow

# Both counts move in the same write transactions: a consistent snapshot has them equal.
COUNTS = (
    "SELECT (SELECT count(*) FROM reviews) AS reviews, "
    "(SELECT count(DISTINCT site || '/' || review_id) FROM review_versions) AS versioned"
)


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


@contextmanager
def datasette(tmp_path: Path) -> Iterator[str]:
    """`hoard serve` on the test's archive (which must exist); yields the database's URL."""
    with hoard_serve(tmp_path / "archive.db") as url:
        yield url


def test_readers_see_consistent_counts_and_are_never_locked_out(
    site: ScratchSite, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    wal = tmp_path / "archive.db-wal"
    watches = '[[watch]]\nsite = "mal"\nanime = [1]\nmanga = [2]\n'
    # Writes in small batches, and a WAL bound small enough for this run to reach it often.
    settings = "HOARD_STORE_BATCH = 20\nHOARD_WAL_LIMIT = 4194304\n"
    config = write_config(tmp_path, site.url, watches, settings)
    site.publish(
        {("anime", 1): list(range(20020, 20000, -1)), ("manga", 2): list(range(60, 0, -1))}
    )
    assert run_hoard("update", "-q", "--config", str(config), cwd=tmp_path).returncode == 0

    site.publish(
        {("anime", 1): list(range(20800, 20000, -1)), ("manga", 2): list(range(260, 0, -1))}
    )  # 980 new reviews, written 20 at a time
    direct: list[tuple[int, int]] = []
    served: list[tuple[int, int]] = []
    errors: list[str] = []
    wal_sizes: list[int] = []
    with datasette(tmp_path) as url:
        writer = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
        # A reader as impatient as a person: half a second of busy timeout at most.
        reader = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=0.5)
        while writer.poll() is None:
            try:
                row = reader.execute(COUNTS).fetchone()
                direct.append((row[0], row[1]))
            except sqlite3.Error as exc:
                errors.append(f"sqlite3: {exc}")
            if len(direct) % 5 == 0:
                answer = httpx.get(f"{url}.json", params={"sql": COUNTS, "_shape": "array"})
                if answer.status_code == 200:
                    got = answer.json()[0]
                    served.append((got["reviews"], got["versioned"]))
                else:
                    errors.append(f"datasette {answer.status_code}: {answer.text[:200]}")
            wal_sizes.append(wal.stat().st_size if wal.exists() else 0)
            time.sleep(0.01)
        reader.close()
        out, err = writer.communicate()
    assert writer.returncode == 0, err
    assert "reviews 980 new" in out

    print(
        f"readers: {len(direct)} sqlite3 and {len(served)} Datasette reads during the run, "
        f"reviews seen {direct[0][0] if direct else '-'} -> {direct[-1][0] if direct else '-'}, "
        f"max WAL {max(wal_sizes, default=0)} bytes, errors {len(errors)}"
    )
    assert errors == []
    assert len(direct) >= 20 and len(served) >= 4
    assert all(reviews == versioned for reviews, versioned in direct + served)
    seen = [reviews for reviews, _ in direct]
    assert seen == sorted(seen)  # never a step back
    assert seen[0] < 1060 and seen[-1] > seen[0]  # the reads happened during the writes
    # The run empties the log as it goes (readers keep SQLite's own checkpoints from doing it).
    assert max(wal_sizes) < 32 * 2**20
    emptied = [b for a, b in pairwise(wal_sizes) if a > b == 0]
    assert emptied, wal_sizes
    assert not wal.exists() or wal.stat().st_size == 0  # and the run empties it at its end
