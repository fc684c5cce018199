"""Helpers for the `hoard update` tests: a watchlist pointed at a replay site, real `hoard`
processes, and a comparable picture of an archive. (No tests here.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from reviewhoard.hoard.lock import lock_path, read_holder

FAST = "DOWNLOAD_DELAY = 0\nAUTOTHROTTLE_ENABLED = false\nHOARD_BACKOFF_BASE = 0.2\n"


def write_config(directory: Path, site_url: str, watches: str, settings: str = "") -> Path:
    """hoard.toml in `directory`: archive.db beside it, delays off, MAL at the replay site."""
    path = directory / "hoard.toml"
    path.write_text(
        f'db = "archive.db"\n\n[settings]\n{FAST}MAL_BASE_URL = "{site_url}"\n{settings}\n'
        f"{watches}",
        encoding="utf-8",
    )
    return path


def environment(**extra: str) -> dict[str, str]:
    """This environment without what would point `hoard` elsewhere (an archive, a site's base
    URL), with `extra` set."""
    kept = {k: v for k, v in os.environ.items() if k != "HOARD_DB" and not k.endswith("_BASE_URL")}
    return {**kept, **extra}


def hoard_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "reviewhoard.hoard", *args]


def run_hoard(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A `hoard` subprocess run to its end (`env`: variables to set besides `environment()`)."""
    return subprocess.run(
        hoard_command(*args),
        cwd=cwd,
        env=environment(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_hoard(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """A `hoard` subprocess left running."""
    return subprocess.Popen(
        hoard_command(*args),
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_lock(db: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Until `proc` holds the archive's run lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read_holder(lock_path(db)).pid == proc.pid:
            return
        assert proc.poll() is None, str(proc.communicate())
        time.sleep(0.02)
    raise AssertionError(f"pid {proc.pid} did not take the lock of {db}")


def wait_for_reviews(
    db: Path, at_least: int, proc: subprocess.Popen[str], timeout: float = 30
) -> int:
    """Until the archive holds `at_least` reviews (read as any reader would, during the run)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = count(db, "reviews") if db.exists() else 0
        if found >= at_least:
            return found
        assert proc.poll() is None, str(proc.communicate())
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} reviews in {db} after {timeout} s")


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def count(db: Path, table: str) -> int:
    found = rows(db, f"SELECT count(*) FROM {table}")
    return int(found[0][0]) if found else 0


def picture(db: Path) -> dict[str, Any]:
    """What must be equal between two archives of the same crawls: every review with its
    content, its versions and its history length; no duplicates can hide in it."""
    return {
        "reviews": rows(
            db,
            "SELECT site, review_id, content_hash, version_count, gone_at IS NULL FROM reviews "
            "ORDER BY site, review_id",
        ),
        "versions": rows(
            db,
            "SELECT site, review_id, content_hash FROM review_versions "
            "ORDER BY site, review_id, content_hash",
        ),
        "subjects": rows(db, "SELECT site, type, subject_id FROM subjects ORDER BY 1, 2, 3"),
    }


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
