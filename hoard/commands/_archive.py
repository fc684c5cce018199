"""Helpers the archive commands (stats, export, reparse, serve) share; not a command itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reviewhoard.archive.connection import connect
from reviewhoard.hoard.errors import HoardError, UsageError


def require_archive(db_path: str) -> None:
    """Fail with one line, exit 2 (as for a wrong `--db`), when there is no archive yet: readers
    never create one."""
    if not Path(db_path).is_file():
        raise UsageError(f"no archive at {db_path}; fill one with `hoard import` or `hoard crawl`")


def open_reader(db_path: str) -> sqlite3.Connection:
    """A read-only connection to an existing archive (works while a crawl writes)."""
    require_archive(db_path)
    try:
        conn = connect(db_path, readonly=True)
        tables = {
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                "('reviews', 'crawls', 'pages')"
            )
        }
    except sqlite3.Error as exc:
        raise HoardError(
            f"cannot open {db_path} as an archive ({exc}); is it a SQLite file?"
        ) from None
    if len(tables) < 3:
        conn.close()
        raise UsageError(
            f"{db_path} is a SQLite file but not a reviewhoard archive (it has no reviews, "
            "crawls and pages tables); pass the archive's path with --db"
        )
    return conn
