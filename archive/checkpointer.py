"""Folding the write-ahead log back into the database on a thread of its own.

In WAL mode every page a write transaction changes goes to the `-wal` file first, and a
checkpoint copies it into the database later. SQLite's automatic checkpoint runs inside the
commit that crosses its threshold, so the writer waits for that copy (and its fsyncs): for a
batch of new reviews about a tenth of the write. `Checkpointer` does the copy on its own thread
and connection instead, while the writer goes on with the next batch (SQLite lets a checkpoint
run beside a writer, and Python's sqlite3 lets go of the GIL while it does).

A checkpoint is safe at any moment: killed half way, the next one (or the next open) finishes
it. The writer keeps SQLite's own autocheckpoint, at `BACKSTOP` times the threshold, for the
case this thread cannot keep up.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

BACKSTOP = 4
"""The writer's own autocheckpoint sits at this many times the checkpointer's threshold."""


class Checkpointer:
    """A thread that runs a PASSIVE checkpoint of `path` whenever `poke()` finds its WAL past
    `threshold` bytes. Start with `start()`, end with `stop()` (before the writer closes, so the
    writer's close is the last one and empties the log)."""

    def __init__(self, path: str | Path, threshold: int) -> None:
        self.path = str(path)
        self.wal = Path(self.path + "-wal")
        self.threshold = threshold
        self.runs = 0
        """Checkpoints run so far (for tests and logs)."""
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="hoard-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """After a commit: wake the thread if the log has grown past the threshold."""
        try:
            grown = self.wal.stat().st_size > self.threshold
        except OSError:
            return
        if grown:
            self._wake.set()

    def stop(self) -> None:
        """Let a checkpoint under way finish, then end the thread."""
        if not self._thread.is_alive():
            return
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = NORMAL")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.runs += 1
                except sqlite3.Error as exc:  # the writer's backstop checkpoint still runs
                    logger.warning("background checkpoint of %s failed: %s", self.path, exc)
        finally:
            conn.close()
