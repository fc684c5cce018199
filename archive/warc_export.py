"""Reading stored raw pages for a WARC export: read-only questions, one page at a time.

`hoard export --format warc` writes every stored page as a `response` record dated when it was
first fetched, and, for a page fetched again later with the same body (`pages` keeps each body
once, with `last_fetched_at` and `fetch_count`), a `revisit` record dated its last fetch. Events
come oldest first, so importing the export replays the archive's history in order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from reviewhoard.archive.packing import decompress_body

Event = Literal["response", "revisit"]


@dataclass(slots=True)
class StoredPage:
    """A stored raw page, body decompressed."""

    id: int
    sha256: str
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    site: str
    fetched_at: str
    last_fetched_at: str
    fetch_count: int
    parser_version: str
    body: bytes


def _where(site: str | None, since: str | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if site:
        clauses.append("site = ?")
        params.append(site)
    if since:
        clauses.append("last_fetched_at >= ?")
        params.append(since)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def iter_page_events(
    conn: sqlite3.Connection, *, site: str | None = None, since: str | None = None
) -> Iterator[tuple[Event, StoredPage]]:
    """Every stored page (of `site`, fetched on or after `since`) as ("response", page) at its
    first fetch and, when fetched again later, ("revisit", page) at its last fetch: oldest
    first. One body in memory at a time (SQLite orders the small event rows)."""
    where, params = _where(site, since)
    again = (where + " AND " if where else " WHERE ") + "last_fetched_at > fetched_at"
    events = conn.execute(
        "SELECT id, fetched_at AS at, 0 AS kind FROM pages" + where + " UNION ALL "
        "SELECT id, last_fetched_at, 1 FROM pages" + again + " ORDER BY at, kind, id",
        params + params,
    )
    reader = conn.cursor()
    for page_id, _at, kind in events:
        row = reader.execute(
            "SELECT id, sha256, url, final_url, status, headers, site, fetched_at, "
            "last_fetched_at, fetch_count, parser_version, compression, body FROM pages "
            "WHERE id = ?",
            (page_id,),
        ).fetchone()
        if row is None:
            continue
        (pid, sha, url, final, status, headers, site_, first, last, count, version, comp, blob) = (
            row
        )
        page = StoredPage(
            id=pid,
            sha256=sha,
            url=url,
            final_url=final,
            status=status,
            headers=json.loads(headers),
            site=site_,
            fetched_at=first,
            last_fetched_at=last,
            fetch_count=count,
            parser_version=version,
            body=decompress_body(comp, blob),
        )
        yield ("revisit" if kind else "response"), page
