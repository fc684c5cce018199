"""The crawl's writer in a process of its own writes the archive the in-process writer writes,
and keeps its guarantees when either side dies: a dead writer is a failed write (never a hang,
never "ok"), a dead crawl loses nothing it was told was stored, and the run lock is held until
both have ended."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.archive.writer_process import WriterProcess
from reviewhoard.hoard.errors import LockedError
from reviewhoard.hoard.lock import ArchiveLock, held_fd
from reviewhoard.items import FeedWalked
from reviewhoard.pipelines.context import WriteFailed
from tests.archive.test_capture_writer import CRAWL_A, CRAWL_B, archive_rows, crawl_captures
from tests.conftest import fixtures_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_writer_process_writes_the_archive_the_in_process_writer_writes(tmp_path: Path):
    captures = crawl_captures(CRAWL_A) + crawl_captures(CRAWL_B)
    seen = [r.review_id for r in captures[0].reviews][:-1]
    event = FeedWalked("myanimelist", "anime:1", "anime", "1", seen, "2026-11-30T10:00:09Z")

    here = ArchiveWriter(str(tmp_path / "here.db"), command="test", batch_size=25)
    for capture in captures:
        here.write(capture)
    assert here.feed_walked(event) == 1
    here.finish()

    counted: dict[str, int] = {}
    gone: dict[str, object] = {}
    there = WriterProcess(
        str(tmp_path / "there.db"),
        command="test",
        batch_size=25,
        inc_value=lambda key, n: counted.__setitem__(key, counted.get(key, 0) + n),
        set_value=gone.__setitem__,
    )
    for capture in captures:
        there.write(capture)
    there.feed_walked(event)  # the count comes back as a stat
    there.drain()
    assert gone == {"hoard/feed/anime:1/gone": 1}
    assert counted["hoard/reviews_new"] == 66 and counted["hoard/pages_stored"] == 5
    assert there.count("hoard/reviews_new") == 66
    there.finish()

    first, second = archive_rows(tmp_path / "here.db"), archive_rows(tmp_path / "there.db")
    assert len(first["reviews"]) == 66
    for table in first:
        assert first[table] == second[table], table
    outcome = sqlite3.connect(tmp_path / "there.db").execute("SELECT outcome FROM crawls")
    assert outcome.fetchall() == [("ok",)]


def child_pid(writer: WriterProcess) -> int:
    pid = writer._process.pid
    assert pid is not None
    return pid


def test_a_killed_writer_process_is_a_failed_write_not_a_hang(tmp_path: Path):
    captures = crawl_captures(CRAWL_A)
    writer = WriterProcess(str(tmp_path / "a.db"), command="test", batch_size=25)
    writer.write(captures[0])
    writer.drain()
    os.kill(child_pid(writer), signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(WriteFailed) as failed:
        for capture in captures * 20:  # the pipe breaks on one of these at the latest
            writer.write(capture)
        writer.drain()
    assert time.monotonic() - started < 10
    assert str(failed.value) == (
        f"archive write failed: the archive's writer process died (signal 9) at "
        f"{tmp_path / 'a.db'}; nothing after {CRAWL_A[0][1]} was stored"
    )
    with pytest.raises(WriteFailed):
        writer.finish()
    stored = sqlite3.connect(tmp_path / "a.db").execute("SELECT count(*) FROM reviews")
    assert stored.fetchone() == (20,)  # what was drained before the kill


KILLED_CRAWL = """
import sys, time
from reviewhoard.archive.writer_process import WriterProcess
from reviewhoard.hoard.lock import ArchiveLock, held_fd
from tests.archive.test_capture_writer import CRAWL_A, CRAWL_B, crawl_captures

db = sys.argv[1]
lock = ArchiveLock(db, command="test crawl").acquire()
writer = WriterProcess(db, command="test", batch_size=25, lock_fd=held_fd(db))
captures = crawl_captures(CRAWL_A) + crawl_captures(CRAWL_B)
for capture in captures[:3]:
    writer.write(capture)
writer.drain()  # acknowledged: these are stored
print(writer._process.pid, flush=True)
for capture in captures[3:]:
    writer.write(capture)
time.sleep(60)  # killed here
"""


def test_a_killed_crawl_loses_nothing_acknowledged_and_the_lock_outlives_it(tmp_path: Path):
    db = tmp_path / "a.db"
    env = {**os.environ, "REVIEW_FIXTURES": str(fixtures_dir())}  # skips here when missing
    crawl = subprocess.Popen(
        [sys.executable, "-c", KILLED_CRAWL, str(db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert crawl.stdout is not None
    line = crawl.stdout.readline()
    assert line.strip().isdigit(), f"the crawl did not start: {crawl.communicate(timeout=30)}"
    writer_pid = int(line)
    time.sleep(0.5)
    crawl.send_signal(signal.SIGKILL)
    crawl.wait()
    # The writer finishes what it was handed, holding the lock meanwhile; then it exits.
    deadline = time.monotonic() + 30
    while Path(f"/proc/{writer_pid}").exists() and time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{writer_pid}/stat").read_text().split()[2]
        except OSError:
            break
        if status == "Z":
            break
        time.sleep(0.05)
    assert time.monotonic() < deadline, "the orphaned writer never exited"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = {review_id for (review_id,) in conn.execute("SELECT review_id FROM reviews")}
    acknowledged = {r.review_id for c in crawl_captures(CRAWL_A) for r in c.reviews}
    assert acknowledged <= stored
    assert conn.execute("SELECT outcome FROM crawls").fetchall() == [("running",)]
    with ArchiveLock(db, command="next run") as lock:  # free once both are gone
        assert held_fd(db) == lock._fd


def test_the_lock_is_held_while_an_orphaned_writer_still_writes(tmp_path: Path):
    db = tmp_path / "a.db"
    lock = ArchiveLock(db, command="test").acquire()
    writer = WriterProcess(str(db), command="test", batch_size=25, lock_fd=held_fd(db))
    writer.write(crawl_captures(CRAWL_A)[0])
    writer.drain()
    # As if this process had died: its descriptor closes (no unlock, which would let go of
    # the one lock both share); the child's duplicate still holds it.
    assert lock._fd is not None
    os.close(lock._fd)
    lock._fd = None
    with pytest.raises(LockedError):
        ArchiveLock(db, command="another run").acquire()
    writer.close()
    with ArchiveLock(db, command="another run"):
        pass


WRAPPER = """
# A user's wrapper script: no `if __name__ == "__main__":` guard.
import sys
from reviewhoard.archive.writer_process import WriterProcess
from tests.archive.test_capture_writer import CRAWL_A, crawl_captures

writer = WriterProcess(sys.argv[1], command="wrapper", batch_size=25)
writer.write(crawl_captures(CRAWL_A)[0])
writer.finish()
print("ran once")
"""


def test_a_wrapper_script_without_a_main_guard_runs_once(tmp_path: Path):
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER)
    db = tmp_path / "a.db"
    env = {**os.environ, "REVIEW_FIXTURES": str(fixtures_dir()), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "ran once\n"), done.stderr
    runs = sqlite3.connect(db).execute("SELECT command, outcome FROM crawls").fetchall()
    assert runs == [("wrapper", "ok")]
