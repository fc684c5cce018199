"""Opening an archive file: WAL, busy timeout, foreign keys, migrations."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

__all__ = ["connect", "open_database"]

PAGE_SIZE = 8192
"""Page size of a new archive file (SQLite's default is 4096): most reviews' rows (~6 KB with
their text) then fit one page instead of spilling into overflow pages, and FTS5 index pages are
larger. An existing file keeps the page size it was made with."""

WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024
"""The writer checkpoints once its write-ahead log passes this many bytes (any page size)."""

BUSY_TIMEOUT_MS = 30_000
"""How long a connection waits for another writer before giving up (one writer at a time)."""

BUSY_TIMEOUT_ENV = "HOARD_BUSY_TIMEOUT_MS"
"""An environment variable that replaces `BUSY_TIMEOUT_MS` (whole milliseconds) in this process
and the processes it starts: tests hold the archive past a short timeout instead of 30 s."""


def busy_timeout_ms() -> int:
    """The busy timeout in milliseconds: `HOARD_BUSY_TIMEOUT_MS` when set to a number, else
    `BUSY_TIMEOUT_MS`."""
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    return int(raw) if raw.isdigit() else BUSY_TIMEOUT_MS


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with the archive's pragmas; autocommit mode, so transactions are explicit.

    `readonly` opens with `mode=ro` (the file must exist) so a reader never creates or migrates.
    """
    timeout_ms = busy_timeout_ms()
    if readonly:
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=timeout_ms / 1000, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=timeout_ms / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        # In WAL, NORMAL never corrupts the file (a crash loses at most the last commits).
        conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint every 64 MB of WAL instead of 4 MB: a batch of reviews is several MB, and
        # each checkpoint syncs; fewer of them made the store 1.4x faster in bench_archive.
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // page_size}")
    conn.execute("PRAGMA cache_size = -65536")
    return conn


def open_database(path: str | Path) -> Database:
    """A sqlite-utils Database on `path`, created if missing and migrated to the newest layout."""
    # Imported here: readers (`hoard stats`, `export`, Datasette) never load sqlite-utils.
    from sqlite_utils import Database

    from reviewhoard.archive.schema import STORE_MARK, apply_migrations

    conn = connect(path)
    # Marks the store's connection for the full-text triggers, which leave its writes alone.
    conn.execute(f"ATTACH DATABASE ':memory:' AS {STORE_MARK}")
    db = Database(conn, execute_plugins=False)
    apply_migrations(db)
    return db
