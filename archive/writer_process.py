"""The crawl's writer in a process of its own: the crawl fetches, parses and schedules on its
thread while another core writes the archive.

`WriterProcess` stands where an `ArchiveWriter` would for a crawl's item pipeline (the same
`write`, `feed_walked`, `drain`, `record_counts`, `finish`, `close`), and runs the real
`ArchiveWriter` in a child process: `python -m archive.writer_process`, talking over a socket
pair. (Not a fork: a fork of a process that runs Twisted's threads could inherit a held lock. Not
multiprocessing's spawn either: it imports the caller's main script again in the child, which
runs a wrapper script's crawl twice.) Captures cross a pipe pickled (0.15 ms a 270 KB page against
7 ms for the JSON of `Capture.to_bytes`, which is for queues other programs read).

What the in-process writer guarantees holds here too:
- a failed write fails the run: the child reports it, the next `write` raises `WriteFailed`;
- the child dying (kill -9) is a failed write ("the writer process died"), never a hang;
- the crawl dying (kill -9) closes the pipe: the child stores everything it was handed (whole
  pages; a batch is one transaction) and exits; the run row stays `running` until the next run
  marks it `killed`, as for any killed run;
- the run lock: the child holds a duplicate of the lock's file descriptor, so the lock is held
  until both processes have ended.

The crawl never blocks on the writer while fewer than `QUEUE_CAPTURES` captures wait to be
sent: a sender thread feeds the pipe; a receiver thread takes the child's counts, which are
applied to the crawl's stats on the crawl's own thread (in `write` and `drain`).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from reviewhoard.items import Capture, FeedWalked
from reviewhoard.pipelines.context import WriteFailed

QUEUE_CAPTURES = 32
"""Captures waiting for the pipe before `write` waits (about 12 MB of 270 KB pages)."""

_STOP = object()


def _name_holder(fd: int) -> None:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    command = "hoard writer (storing the last pages of a crawl that ended)"
    text = f"pid={os.getpid()}\nsince={since}\ncommand={command}\n"
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)


def _failure(info: tuple[str, str, str | None]) -> WriteFailed:
    return WriteFailed(*info)


def _child(
    conn: Connection,
    db_path: str,
    crawl_id: int | None,
    command: str | None,
    batch_size: int,
    lock: int | None,
) -> None:
    """The writer process: takes messages until told to close or the pipe closes, writing each
    capture; sends counts back as they change."""
    from reviewhoard.archive.writer import ArchiveWriter

    # Ctrl-C and a service manager's SIGTERM reach the whole process group: the crawl decides
    # how the run ends and then closes this writer (or its pipe closes when the crawl is gone).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    counts: dict[str, int] = {}

    def inc(key: str, n: int) -> None:
        counts[key] = counts.get(key, 0) + n

    def send_counts() -> None:
        if counts:
            last = writer.ctx.last_stored if writer is not None else None
            conn.send(("inc", dict(counts), last))
            counts.clear()

    writer: ArchiveWriter | None = None
    failed: tuple[str, str, str | None] | None = None

    def note(exc: WriteFailed) -> None:
        nonlocal failed
        if failed is None:
            failed = (exc.reason, exc.db_path, exc.last_stored)
            with contextlib.suppress(OSError):  # the crawl is gone: nobody is left to tell
                conn.send(("failed", failed))

    try:
        writer = ArchiveWriter(
            db_path,
            crawl_id=crawl_id,
            command=command,
            batch_size=batch_size,
            background=True,
            inc_value=inc,
        )
        conn.send(("started", writer.crawl_id))
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                # The crawl is gone (killed): keep what it handed over, then stop. Until then
                # the lock file names this process, the one still holding the lock.
                if lock is not None:
                    _name_holder(lock)
                writer.close()
                return
            kind = message[0]
            try:
                if kind == "w":
                    if failed is None:
                        writer.write(pickle.loads(message[1]))
                elif kind == "f":
                    if failed is None:
                        event: FeedWalked = message[1]
                        gone = writer.feed_walked(event)
                        conn.send(("gone", event.feed, gone))
                elif kind == "sync":
                    if failed is None:
                        writer.drain()
                    send_counts()
                    conn.send(("synced", message[1]))
                elif kind == "record_counts":
                    if failed is None:
                        writer.record_counts(**message[1])
                    send_counts()
                    conn.send(("synced", message[2]))
                elif kind in ("finish", "close"):
                    try:
                        if kind == "finish":
                            writer.finish(message[1], **message[2])
                        else:
                            writer.close()
                    finally:
                        send_counts()
                    conn.send(("closed", None))
                    return
            except WriteFailed as exc:
                send_counts()
                note(exc)
                if kind in ("sync", "record_counts"):
                    conn.send(("synced", message[-1]))
                elif kind in ("finish", "close"):
                    conn.send(("closed", None))
                    return
            send_counts()
    except WriteFailed as exc:
        note(exc)
    finally:
        if lock is not None:
            os.close(lock)
        conn.close()


class WriterProcess:
    """An `ArchiveWriter` in a child process, for a crawl (see the module's docstring).

    `inc_value`/`set_value`: where the child's counts go (a crawler's stats), called on the
    caller's thread. `lock_fd`: the run lock's descriptor, shared with the child.
    """

    def __init__(
        self,
        db_path: str,
        *,
        crawl_id: int | None = None,
        command: str | None = None,
        batch_size: int,
        inc_value: Callable[[str, int], None] | None = None,
        set_value: Callable[[str, Any], None] | None = None,
        lock_fd: int | None = None,
    ) -> None:
        self.db_path = db_path
        self.own_run = crawl_id is None and command is not None
        self.users = 0
        self.lock: Any = None
        self.stats: dict[str, int] = {}
        self.failure: WriteFailed | None = None
        self.last_stored: str | None = None
        """The URL of the last page the child said it committed: what a failure names."""
        self._crawl_id = crawl_id
        self._inc_value = inc_value
        self._set_value = set_value
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._outbox: queue.Queue[Any] = queue.Queue(QUEUE_CAPTURES)
        self._synced = 0
        self._closed = False
        ours, theirs = socket.socketpair()
        self._conn = Connection(ours.detach())
        spec = {"db": db_path, "crawl_id": crawl_id, "command": command, "batch": batch_size}
        fds = [theirs.fileno()] + ([lock_fd] if lock_fd is not None else [])
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                __name__,
                json.dumps({**spec, "conn": theirs.fileno(), "lock": lock_fd}),
            ],
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._receiver = threading.Thread(target=self._receive, name="hoard-writer-in", daemon=True)
        self._sender = threading.Thread(target=self._send, name="hoard-writer-out", daemon=True)
        self._receiver.start()
        self._sender.start()

    # The two threads: they only move messages; all state changes happen on the caller's thread.

    def _receive(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self._inbox.put(("eof",))
                return
            self._inbox.put(message)
            if message[0] == "closed":
                return

    def _send(self) -> None:
        while True:
            message = self._outbox.get()
            if message is _STOP:
                return
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                self._inbox.put(("eof",))
                return

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "inc":
            self.last_stored = message[2] or self.last_stored
            for key, n in message[1].items():
                self.stats[key] = self.stats.get(key, 0) + n
                if self._inc_value is not None:
                    self._inc_value(key, n)
        elif kind == "gone":
            _, feed, gone = message
            if gone:
                self.stats["hoard/reviews_gone"] = self.stats.get("hoard/reviews_gone", 0) + gone
            if self._set_value is not None:
                self._set_value(f"hoard/feed/{feed}/gone", gone)
        elif kind == "started":
            self._crawl_id = message[1]
        elif kind == "failed":
            self.failure = self.failure or _failure(message[1])
        elif kind == "synced":
            self._synced = max(self._synced, message[1])
        elif kind == "closed":
            self._closed = True
        elif kind == "eof" and not self._closed:
            self._died()

    def _died(self) -> None:
        try:
            code: int | None = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        how = f"exit status {code}" if code is not None and code >= 0 else f"signal {-(code or 0)}"
        self.failure = self.failure or WriteFailed(
            f"the archive's writer process died ({how})", self.db_path, self.last_stored
        )
        self._closed = True

    def _pump(self, until: Callable[[], bool] | None = None) -> None:
        """Apply what the child sent; with `until`, wait for messages until it holds."""
        while True:
            if until is not None and not until() and not self._closed:
                message = self._inbox.get()
            else:
                try:
                    message = self._inbox.get_nowait()
                except queue.Empty:
                    return
            self._apply(message)

    def _put(self, message: Any) -> None:
        if self._closed:
            raise self.failure or WriteFailed("the writer was closed", self.db_path, None)
        while True:
            try:
                self._outbox.put(message, timeout=0.5)
                return
            except queue.Full:
                self._pump()
                if self._closed:
                    raise self.failure or WriteFailed(
                        "the writer was closed", self.db_path, None
                    ) from None

    def _sync(self, message: tuple[Any, ...]) -> None:
        token = self._synced + 1
        self._put((*message, token))
        self._pump(until=lambda: self._synced >= token)

    @property
    def crawl_id(self) -> int:
        """The run's `crawls` row (the child's own, once it has opened one)."""
        if self._crawl_id is None:
            self._pump(until=lambda: self._crawl_id is not None)
        assert self._crawl_id is not None, self.failure
        return self._crawl_id

    def count(self, key: str) -> int:
        """How many of `key` the child counted so far (as far as it has told)."""
        return self.stats.get(key, 0)

    def write(self, capture: Capture) -> None:
        """Hand one capture over; raises `WriteFailed` once a write failed."""
        self._pump()
        if self.failure is not None:
            raise self.failure
        self._put(("w", pickle.dumps(capture, pickle.HIGHEST_PROTOCOL)))

    def feed_walked(self, event: FeedWalked) -> None:
        """Hand a walked feed over; the gone count arrives later as the feed's `gone` stat."""
        self._pump()
        if self.failure is not None:
            raise self.failure
        self._put(("f", event))

    def drain(self) -> None:
        """Wait until everything handed over is written and counted."""
        if not self._closed:
            self._sync(("sync",))
        if self.failure is not None:
            raise self.failure

    def record_counts(self, **extra: int) -> None:
        """Keep the run's counts on its row now (a row someone else finishes)."""
        if not self._closed:
            self._sync(("record_counts", extra))
        if self.failure is not None:
            raise self.failure

    def finish(self, outcome: str | None = None, **figures: Any) -> None:
        """Write what is left, close the run's row and the child (see `ArchiveWriter.finish`)."""
        self._end(("finish", outcome, figures))

    def close(self) -> None:
        """Write what is left and stop the child."""
        self._end(("close",))

    def _end(self, message: tuple[Any, ...]) -> None:
        known = self.failure
        try:
            if not self._closed:
                self._put(message)
                self._pump(until=lambda: self._closed)
            self._outbox.put(_STOP)
            # Still storing after a minute: it ends by itself once its pipe is closed.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=60)
            # The sender may still be on its last message (a dead child): let it finish before
            # the connection it writes to is closed under it.
            self._sender.join(timeout=5)
            self._conn.close()
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None
        if self.failure is not None and (message[0] == "finish" or self.failure is not known):
            raise self.failure


def main(argv: list[str]) -> None:
    """The child's entry point (`python -m archive.writer_process SPEC`)."""
    spec = json.loads(argv[0])
    _child(
        Connection(spec["conn"]),
        spec["db"],
        spec["crawl_id"],
        spec["command"],
        int(spec["batch"]),
        spec["lock"],
    )


if __name__ == "__main__":
    main(sys.argv[1:])
