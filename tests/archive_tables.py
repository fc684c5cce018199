"""Two archives compared whole: every table, every row, every column but those that differ by
nature (when a run ran). A full-text index is compared by what it holds (every term of every row,
column and position, from `fts5vocab`), not by its segments (`*_data`, `*_idx`): FTS5 lays
those out by transaction, and a writer that writes as soon as it is free (`hoard import --jobs
2`) commits at other points than one that fills each batch."""

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
        fts = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
                "'CREATE VIRTUAL TABLE%USING fts5%' ORDER BY name"
            )
        ]
        segments = {f"{n}_{part}" for n in fts for part in ("data", "idx")}
        out: dict[str, list[tuple[Any, ...]]] = {}
        for name in fts:
            conn.execute(
                f'CREATE VIRTUAL TABLE temp."{name}_terms" USING fts5vocab(main, "{name}", '
                "instance)"
            )
            out[f"{name} terms"] = conn.execute(
                f'SELECT term, doc, col, "offset" FROM temp."{name}_terms" '
                'ORDER BY term, doc, col, "offset"'
            ).fetchall()
        for name in names:
            if name in segments:
                continue
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
