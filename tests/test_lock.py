"""The per-archive run lock, held by real processes: refusal names the holder, and a SIGKILLed
holder never blocks the next run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hoard import exitcodes
from hoard.errors import LockedError
from hoard.lock import ArchiveLock, lock_path, read_holder

HOLD = """
import sys, time
from hoard.lock import ArchiveLock
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
