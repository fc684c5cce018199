"""One run at a time per archive: an flock on `<db>.lock` beside the database.

The kernel drops an flock when the process holding it dies, however it dies (SIGKILL included),
so a lock left by a killed run never blocks the next one: there is no stale-lock cleanup to get
wrong. The file holds the holder's pid and start time only so the refusal can name them; the file
itself is never deleted (deleting a lock file others may have open is how two runs end up holding
"the" lock at once).
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TextIO

from reviewhoard.archive.errors import unreadable
from reviewhoard.hoard.errors import LockedError


def lock_path(db_path: str | Path) -> Path:
    """The lock file of an archive: `archive.db` -> `archive.db.lock`, beside the real file, so
    every name of the archive (a symlink, a relative path) takes the same lock."""
    db = Path(db_path).resolve()
    return db.with_name(db.name + ".lock")


@dataclass(slots=True)
class Holder:
    """Who holds (or last held) an archive's lock, as written in the lock file."""

    pid: int | None
    since: str | None
    command: str | None = None


def read_holder(path: str | Path) -> Holder:
    """The pid, start time and command line written in a lock file (None where unreadable)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Holder(None, None)
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    pid = fields.get("pid", "")
    return Holder(int(pid) if pid.isdigit() else None, fields.get("since"), fields.get("command"))


_HELD: dict[Path, ArchiveLock] = {}
"""The locks this process holds, by lock file: a writer process started for the run shares the
one it runs under (`held_fd`)."""


def held_fd(db_path: str | Path) -> int | None:
    """The descriptor of the lock this process holds on the archive at `db_path`, if it holds
    one: a child handed a duplicate of it holds the same lock until both have ended."""
    lock = _HELD.get(lock_path(db_path))
    return lock._fd if lock is not None else None


class ArchiveLock:
    """Exclusive, non-blocking run lock of one archive; a context manager.

    >>> with ArchiveLock("archive.db", command="hoard update"):
    ...     pass  # crawl
    """

    def __init__(self, db_path: str | Path, command: str = "hoard") -> None:
        self.path = lock_path(db_path)
        self.db_path = Path(db_path)
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> ArchiveLock:
        """Take the lock or raise LockedError (exit 75) naming the holder's pid and start time."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # No O_TRUNC: until we hold the lock the file is the holder's, and its text is the
            # message.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise unreadable(self.db_path, exc) from None  # a read-only folder: one line, exit 2
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_holder(self.path)
            pid = holder.pid if holder.pid is not None else "unknown"
            since = holder.since or "an unknown time"
            raise LockedError(
                f"another run holds the archive (pid {pid}, since {since}): {self.db_path}; "
                f"this run did nothing, try again later (lock file: {self.path})"
            ) from None
        if self.db_path.exists() and not os.access(self.db_path, os.W_OK):
            # Every writer takes this lock first: refuse here, before a run row or a request.
            os.close(fd)
            raise unreadable(self.db_path, PermissionError(13, "the file is read-only"))
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid={os.getpid()}\nsince={since}\ncommand={self.command}\n".encode(), 0)
        self._fd = fd
        _HELD[self.path] = self
        return self

    def release(self) -> None:
        """Let the next run in (also happens by itself when the process ends)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            if _HELD.get(self.path) is self:
                del _HELD[self.path]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def __enter__(self) -> ArchiveLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def close_abandoned(db_path: Path, stream: TextIO) -> None:
    """Mark `killed` the run rows a dead run left `running` (call while holding the lock, so
    none is alive); its stored pages and reviews stay, and this run completes their work."""
    if not db_path.exists():
        return
    from reviewhoard.archive.store import open_archive

    with open_archive(db_path) as archive:
        ids = archive.close_abandoned_crawls("killed")
    if ids:
        stream.write(
            f"hoard: run(s) {', '.join(map(str, ids))} ended without closing (killed?); "
            "marked killed, this run completes their work\n"
        )
