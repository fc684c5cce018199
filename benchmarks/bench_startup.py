"""Start-up benchmark: `hoard --help` and `hoard stats` against `python -c pass`, side by side
in one run (best of several alternating runs each, wall clock of the whole process).

Bar: each at most 2.5x `python -c pass` plus 0.1 s: a command loads only what it uses (Scrapy,
Twisted, Datasette and sqlite-utils load for the commands that need them).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 7
HOARD = [sys.executable, "-m", "reviewhoard.hoard.cli"]


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> bool:
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "archive.db"
        from reviewhoard.archive.connection import open_database

        open_database(db).close()  # an empty, migrated archive
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "hoard --help": [*HOARD, "--help"],
            "hoard stats": [*HOARD, "stats", "--db", str(db)],
        }
        best = {name: float("inf") for name in commands}
        for _ in range(ROUNDS):
            for name, command in commands.items():
                best[name] = min(best[name], wall(command))
    floor = best["python -c pass"]
    bar = 2.5 * floor + 0.1
    ok = True
    print(f"   best of {ROUNDS} alternating runs, wall clock of the process")
    for name, seconds in best.items():
        if name == "python -c pass":
            print(f"   {name:20} {seconds * 1000:7.0f} ms")
            continue
        good = seconds <= bar
        ok &= good
        verdict = "ok" if good else "OVER BAR"
        print(
            f"   {name:20} {seconds * 1000:7.0f} ms  ({seconds / floor:.1f}x python; bar "
            f"<= 2.5x + 100 ms = {bar * 1000:.0f} ms) {verdict}"
        )
    return ok
