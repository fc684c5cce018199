"""Two archives compared whole: every table (FTS shadow tables included), every row, every column
but those that differ by nature (when a run ran)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

BY_NATURE = {
    "crawls": {"started_at", "finished_at"},
    "rejects": {"rejected_at"},
    "_sqlite_migrations": {"applied_at"},
}
"""Columns that differ between two runs whatever they do: when each ran."""


def tables(db: Path, *, any_order: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the archive, every row in rowid order (`any_order`: sorted, for a write
    that may give a row another rowid, as a tag list rewritten whole), every column but those of
    `BY_NATURE`."""
    conn = sqlite3.connect(db)
    try:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name in names:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info('{name}')")]
            kept = [c for c in columns if c not in BY_NATURE.get(name, set())]
            listed = ", ".join(f'"{c}"' for c in kept)
            query = f'SELECT {listed} FROM "{name}"'
            try:
                found, ordered = conn.execute(query + " ORDER BY rowid").fetchall(), not any_order
            except sqlite3.OperationalError:  # WITHOUT ROWID: ordered by every column instead
                found, ordered = conn.execute(query).fetchall(), False
            out[name] = found if ordered else sorted(found, key=repr)
        return out
    finally:
        conn.close()


def assert_same_archive(one: Path, two: Path, *, any_order: bool = False) -> None:
    """The two archives hold the same rows, table by table (see `tables`)."""
    first, second = tables(one, any_order=any_order), tables(two, any_order=any_order)
    assert list(first) == list(second)
    for name in first:
        assert len(first[name]) == len(second[name]), name
        for n, (a, b) in enumerate(zip(first[name], second[name], strict=True)):
            assert a == b, f"{name} row {n + 1}"
