"""A write that fails is a failed run: the archive on a real full disk (a 4 MB tmpfs), a crawl
over a long feed. The run ends with exit 74 and one line naming what was not stored, no page
body reaches stderr, the file stays intact, and once there is room the next run fetches what
was lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reviewhoard.replay.harness import run_crawl
from reviewhoard.sites.myanimelist.scratch import ScratchSite

pytestmark = pytest.mark.slow

REVIEWS = list(range(30_000, 29_000, -1))  # 1,000 reviews: 50 pages, far more than 4 MB stored


def test_a_full_disk_fails_the_run_and_the_next_run_fetches_what_was_lost(
    tmp_path: Path, mal_fixtures: Path, small_disk: Path
) -> None:
    db = small_disk / "a.db"
    with ScratchSite(tmp_path / "site", mal_fixtures) as site:
        site.publish({("anime", 1): REVIEWS})
        small_batches = {"HOARD_STORE_BATCH": "40"}  # two pages a transaction
        failed = run_crawl(db, site.url, ["--anime", "1"], small_batches, site="mal")
        assert failed.returncode == 74, failed.stdout + failed.stderr
        lines = failed.stderr.strip().splitlines()
        assert lines[-1].startswith(
            f"hoard: archive write failed: disk full at {db}; nothing after"
        )
        assert "<html" not in failed.stderr and "review-element" not in failed.stderr
        assert len(failed.stderr) < 4000
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
        conn.close()
        assert 0 < stored < len(REVIEWS)

        # Room again: the next run (update mode) walks past what it has and fetches the rest.
        subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
        again = run_crawl(db, site.url, ["--anime", "1"], site="mal")
        assert again.returncode == 0, again.stderr
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT count(*) FROM reviews").fetchone() == (len(REVIEWS),)
        outcomes = [r[0] for r in conn.execute("SELECT outcome FROM crawls ORDER BY id")]
        conn.close()
        assert outcomes[-1] == "ok" and outcomes[0] in ("failed", "killed")


def test_import_on_a_full_disk_is_one_line_and_exit_74(
    tmp_path: Path, mal_fixtures: Path, small_disk: Path
) -> None:
    db = small_disk / "a.db"
    pages = sorted(str(p) for p in mal_fixtures.glob("*.html"))
    # The same pages many times over (as copies with their own bytes) until the disk is full.
    copies = []
    for n in range(12):
        for page in pages:
            copy = tmp_path / f"{n}-{Path(page).name}"
            copy.write_bytes(Path(page).read_bytes() + f"<!-- copy {n} -->".encode())
            copies.append(str(copy))
    # Without --url: each page is read at the address it names itself (one --url for all would
    # be refused for every other title's page).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewhoard.hoard",
            "import",
            *copies,
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 74, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("hoard: ") or
              "archive write failed" in line]  # fmt: skip
    assert errors[-1].startswith(f"hoard: archive write failed: disk full at {db}")
    assert "Traceback" not in done.stderr and "<html" not in done.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
