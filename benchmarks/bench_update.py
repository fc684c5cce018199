"""Readers during a cron update, and the cost of a consistent backup.

1. A `sqlite3` reader's query latency while a write-heavy `hoard update` runs (1,980 new reviews
   written 20 at a time), side by side with the same reader on the idle archive afterwards.
2. `hoard backup` (VACUUM INTO + integrity_check) against a plain file copy of the same archive
   (which is only consistent when nothing writes).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewhoard.sites.myanimelist.scratch import ScratchSite

FIXTURES = Path(
    os.environ.get("REVIEW_FIXTURES") or Path(__file__).resolve().parents[2] / "shared" / "fixtures"
)
QUERY = (
    "SELECT (SELECT count(*) FROM reviews), "
    "(SELECT count(DISTINCT site || '/' || review_id) FROM review_versions)"
)


def hoard(*args: str, cwd: Path, wait: bool = True) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOARD_DB", "MAL_BASE_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewhoard.hoard", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"hoard {' '.join(args)} exited {proc.returncode}")
    return proc


def sample(db: Path, until: subprocess.Popen[str] | None, count: int = 300) -> list[float]:
    """Query latencies (ms): while `until` runs, or `count` times on an idle archive."""
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
    times: list[float] = []
    try:
        while (until.poll() is None) if until else len(times) < count:
            started = time.perf_counter()
            conn.execute(QUERY).fetchone()
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)
    finally:
        conn.close()
    return times


def figures(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{len(times):5d} reads  p50 {statistics.median(times):6.2f} ms  p99 {p99:6.2f} ms  "
        f"max {ordered[-1]:6.2f} ms"
    )


def main() -> bool:
    if not (FIXTURES / "myanimelist").is_dir():
        print(f"   skipped: saved pages not found at {FIXTURES}")
        return True
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with ScratchSite(root / "site", FIXTURES / "myanimelist") as site:
            (root / "hoard.toml").write_text(
                'db = "archive.db"\n[settings]\nDOWNLOAD_DELAY = 0\nAUTOTHROTTLE_ENABLED = false\n'
                f'HOARD_STORE_BATCH = 20\nMAL_BASE_URL = "{site.url}"\n'
                '[[watch]]\nsite = "mal"\nanime = [1]\nmanga = [2]\n'
            )
            site.publish({("anime", 1): [1], ("manga", 2): [2]})
            hoard("update", "-q", cwd=root)
            site.publish(
                {("anime", 1): list(range(11000, 10000, -1)), ("manga", 2): list(range(980, 0, -1))}
            )
            db = root / "archive.db"
            started = time.perf_counter()
            writer = hoard("update", "-q", cwd=root, wait=False)
            during = sample(db, writer)
            writer.communicate()
            took = time.perf_counter() - started
            idle = sample(db, None)
        print(f"   reader during update ({took:4.1f} s run):  {figures(during)}")
        print(f"   reader on idle archive (baseline): {figures(idle)}")

        size = db.stat().st_size / 1e6
        started = time.perf_counter()
        hoard("backup", "--db", str(db), str(root / "backup.db"), cwd=root)
        backup = time.perf_counter() - started
        started = time.perf_counter()
        shutil.copyfile(db, root / "copy.db")
        copy = time.perf_counter() - started
        print(
            f"   hoard backup, {size:5.1f} MB archive:    {backup:6.2f} s (process start included)"
        )
        print(f"   plain file copy (baseline):        {copy:6.2f} s (consistent only when idle)")
    return max(during) < 1000  # a reader never waited a second
