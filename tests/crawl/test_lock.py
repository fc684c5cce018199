"""The per-archive run lock, held by real processes: refusal names the holder, and a SIGKILLed
holder never blocks the next run."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import LockedError
from reviewhoard.hoard.lock import ArchiveLock, lock_path, read_holder

HOLD = """
import sys, time
from reviewhoard.hoard.lock import ArchiveLock
lock = ArchiveLock(sys.argv[1], command="holder").acquire()
print("held", flush=True)
time.sleep(60)
"""


def start_holder(db: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "held\n"
    return proc


def test_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "a" / "archive.db") == tmp_path / "a" / "archive.db.lock"


def test_second_taker_is_refused_with_pid_and_time_then_gets_it_after_release(
    tmp_path: Path,
) -> None:
    db = tmp_path / "archive.db"
    holder = start_holder(db)
    try:
        info = read_holder(lock_path(db))
        assert info.pid == holder.pid
        assert info.command == "holder"
        assert info.since is not None and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info.since
        )
        with pytest.raises(LockedError) as caught:
            ArchiveLock(db).acquire()
        assert caught.value.exit_code == exitcodes.LOCKED == 75
        assert str(caught.value).startswith(
            f"another run holds the archive (pid {holder.pid}, since {info.since}): {db};"
        )
    finally:
        holder.terminate()
        holder.wait()
    with ArchiveLock(db, command="me") as lock:
        assert lock.held
        assert read_holder(lock_path(db)).pid == os.getpid()
    assert not lock.held


def test_sigkilled_holder_does_not_block_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    holder = start_holder(db)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    lock = ArchiveLock(db).acquire()
    assert time.monotonic() - started < 1
    assert read_holder(lock_path(db)).pid == os.getpid()
    lock.release()


def test_lock_is_per_archive(tmp_path: Path) -> None:
    with ArchiveLock(tmp_path / "one.db"), ArchiveLock(tmp_path / "two.db") as second:
        assert second.held


def test_import_takes_the_archives_lock_and_closes_a_killed_imports_row(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    """An import beside a crawl waits for no one (exit 75, nothing written); a killed import's
    row is closed as killed by the next run, as a killed crawl's is."""
    db = tmp_path / "archive.db"
    page = str(mal_fixtures / "anime-1-reviews-2022-10.html")
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    command = [
        sys.executable,
        "-m",
        "reviewhoard.hoard",
        "import",
        page,
        "--url",
        url,
        "--db",
        str(db),
    ]
    with ArchiveLock(db, command="hoard crawl"):
        held = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert held.returncode == 75, held.stderr
    assert held.stderr.startswith("hoard: another run holds the archive")
    assert not db.exists() or sqlite3.connect(db).execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'reviews'"
    ).fetchone() == (0,)

    first = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert first.returncode == 0, first.stderr
    conn = sqlite3.connect(db)
    conn.execute("UPDATE crawls SET outcome = 'running', finished_at = NULL")  # as if killed
    conn.commit()
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0, again.stderr
    assert "ended without closing (killed?)" in again.stderr
    assert conn.execute("SELECT outcome FROM crawls ORDER BY id").fetchall() == [
        ("killed",),
        ("ok",),
    ]
    conn.close()


def test_the_lock_is_the_archives_whatever_name_it_is_opened_by(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    db.touch()
    alias = tmp_path / "elsewhere" / "alias.db"
    alias.parent.mkdir()
    alias.symlink_to(db)
    assert lock_path(alias) == lock_path(db)
    with ArchiveLock(db, command="hoard update"), pytest.raises(LockedError):
        ArchiveLock(alias, command="hoard import").acquire()


def test_a_plain_scrapy_crawl_holds_the_lock_too(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from reviewhoard.archive.writer import ArchiveWriter
    from reviewhoard.spiders.named import SPIDERS

    db = tmp_path / "archive.db"
    crawler = get_crawler(SPIDERS["mal"], {"HOARD_DB": str(db)})
    writer = ArchiveWriter.for_crawler(crawler)
    try:
        with pytest.raises(LockedError):
            ArchiveLock(db, command="hoard update").acquire()
    finally:
        writer.close()
    ArchiveLock(db, command="hoard update").acquire().release()  # let go when done
