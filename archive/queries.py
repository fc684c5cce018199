"""Reading the archive: read-only questions other parts ask, safe while a writer runs (WAL)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reviewhoard.archive.connection import connect
from reviewhoard.archive.tables import TABLES
from reviewhoard.items import CONTRACT_FIELDS


def review_hashes(db_path: str, site: str, review_ids: list[str]) -> dict[str, str]:
    """The stored content hash of each of `review_ids` that is archived: {review_id: hash}.

    For a crawl's update mode ("is everything on this page archived and unchanged?"). Opens the
    file read-only, so it works while a writer runs; {} when the archive does not exist yet.
    """
    if not review_ids or not Path(db_path).exists():
        return {}
    conn = connect(db_path, readonly=True)
    try:
        if not _has_table(conn, "reviews"):
            return {}
        out: dict[str, str] = {}
        ids = list(dict.fromkeys(review_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT review_id, content_hash FROM reviews WHERE site = ? "
                f"AND review_id IN ({marks})",
                (site, *chunk),
            )
            out.update({rid: h for rid, h in rows})
        return out
    finally:
        conn.close()


def _latest_feed_entry(
    conn: sqlite3.Connection, feed: str, condition: str, before_crawl: int | None
) -> Any:
    """The entry for `feed` in `crawls.feeds` of the latest crawl before `before_crawl` where
    `condition` holds (SQL; `:path` is the feed's JSON path); None when there is none, or when
    the archive predates `crawls.feeds`."""
    if not _has_table(conn, "crawls"):
        return None
    if "feeds" not in {row[1] for row in conn.execute("PRAGMA table_info(crawls)")}:
        return None
    row = conn.execute(
        f"SELECT json_extract(feeds, :path) FROM crawls WHERE feeds IS NOT NULL AND {condition} "
        "AND id < :before ORDER BY id DESC LIMIT 1",
        {"path": "$." + json.dumps(feed), "before": before_crawl or 2**62},
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def feed_history(
    conn: sqlite3.Connection, feeds: list[str], before_crawl: int | None = None
) -> dict[str, dict[str, int]]:
    """For each feed, its counts in the latest earlier crawl where it yielded reviews:
    {"film:1": {"pages": 3, "reviews": 60, "blocks": 60, ...}}; feeds never seen are left out.

    For the alarms ("this feed had reviews before and has none now"); `before_crawl` excludes
    that crawl and later ones (the run being judged).
    """
    found = {
        feed: _latest_feed_entry(
            conn, feed, "json_extract(feeds, :path || '.reviews') > 0", before_crawl
        )
        for feed in feeds
    }
    return {feed: entry for feed, entry in found.items() if entry is not None}


def unfinished_feeds(
    conn: sqlite3.Connection, feeds: list[str], before_crawl: int | None = None
) -> set[str]:
    """The feeds whose latest crawl that read them did not complete them (killed, interrupted,
    a page that failed): `crawls.feeds` marks each feed `complete` true or false. A feed never
    crawled is not unfinished."""
    out: set[str] = set()
    for feed in feeds:
        entry = _latest_feed_entry(conn, feed, "json_type(feeds, :path) IS NOT NULL", before_crawl)
        if entry is not None and entry.get("complete") is not True:
            out.add(feed)
    return out


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return row is not None


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts per table, per site and per subject (most reviewed first)."""
    out: dict[str, Any] = {}
    for table in TABLES:
        out[table] = conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
    out["reviews_gone"] = conn.execute(
        "SELECT count(*) FROM reviews WHERE gone_at IS NOT NULL"
    ).fetchone()[0]
    out["reviews_edited"] = conn.execute(
        "SELECT count(*) FROM reviews WHERE version_count > 1"
    ).fetchone()[0]
    out["page_bytes"] = conn.execute(
        "SELECT coalesce(sum(body_size), 0), coalesce(sum(length(body)), 0) FROM pages"
    ).fetchone()
    out["page_bytes"] = {"raw": out["page_bytes"][0], "stored": out["page_bytes"][1]}
    out["per_site"] = [
        {"site": site, "reviews": n, "subjects": s, "authors": a, "pages": p}
        for site, n, s, a, p in conn.execute(
            "SELECT r.site, count(*), count(DISTINCT r.subject_type || ':' || r.subject_id), "
            "count(DISTINCT r.author_id), "
            "(SELECT count(*) FROM pages WHERE pages.site = r.site) "
            "FROM reviews r GROUP BY r.site ORDER BY r.site"
        )
    ]
    out["per_subject"] = [
        {
            "site": site,
            "type": type_,
            "subject_id": sid,
            "title": title,
            "reviews": n,
            "versions": v,
            "gone": g,
        }
        for site, type_, sid, title, n, v, g in conn.execute(
            "SELECT r.site, r.subject_type, r.subject_id, s.title, count(*), "
            "sum(r.version_count), count(r.gone_at) FROM reviews r "
            "LEFT JOIN subjects s ON s.site = r.site AND s.type = r.subject_type "
            "AND s.subject_id = r.subject_id "
            "GROUP BY r.site, r.subject_type, r.subject_id ORDER BY count(*) DESC, r.site, "
            "r.subject_type, r.subject_id"
        )
    ]
    return out


_EXPORT_SQL = """
SELECT r.site, r.review_id, r.url, r.subject_type, r.subject_id, s.title, s.url,
       r.author_name, a.url, r.published_at, r.text, r.rating, r.rating_scale, r.recommendation,
       r.tags, r.is_spoiler, r.is_preliminary, r.progress_seen, r.progress_total, r.progress_unit,
       r.reactions, r.helpful_count, r.sub_scores, r.extra,
       r.first_seen_at, r.last_seen_at, r.gone_at, r.version_count, a.former_names
FROM reviews r
JOIN authors a ON a.id = r.author_id
LEFT JOIN subjects s ON s.site = r.site AND s.type = r.subject_type AND s.subject_id = r.subject_id
"""

ARCHIVE_FIELDS: tuple[str, ...] = (
    "first_seen_at",
    "last_seen_at",
    "gone_at",
    "version_count",
    "author_former_names",
)
"""The archive's own fields an exported review carries after the record's fields."""


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def iter_export(
    conn: sqlite3.Connection, *, site: str | None = None, since: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every review, one dict at a time, in the record's shape plus the archive's own fields.

    `since` keeps reviews last seen on or after that date/time (ISO 8601). Streams from a cursor:
    memory stays constant however large the archive.
    """
    where, params = [], []
    if site:
        where.append("r.site = ?")
        params.append(site)
    if since:
        where.append("r.last_seen_at >= ?")
        params.append(since)
    sql = _EXPORT_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.rowid"
    for row in conn.execute(sql, params):
        (
            site_,
            rid,
            url,
            stype,
            sid,
            stitle,
            surl,
            aname,
            aurl,
            published,
            text,
            rating,
            scale,
            rec,
            tags,
            spoiler,
            prelim,
            pseen,
            ptotal,
            punit,
            reactions,
            helpful,
            subs,
            extra,
            first,
            last,
            gone,
            versions,
            former,
        ) = row
        record: dict[str, Any] = {
            "site": site_,
            "review_id": rid,
            "url": url,
            "subject": {"type": stype, "id": sid, "title": stitle, "url": surl},
            "author": {"name": aname, "url": aurl},
            "published_at": published,
            "text": text,
            "rating": _number(rating),
            "rating_scale": _number(scale),
            "recommendation": rec,
            "tags": json.loads(tags),
            "is_spoiler": None if spoiler is None else bool(spoiler),
            "is_preliminary": bool(prelim),
            "progress": None if punit is None else {"seen": pseen, "total": ptotal, "unit": punit},
            "reactions": None if reactions is None else json.loads(reactions),
            "helpful_count": helpful,
            "sub_scores": None if subs is None else json.loads(subs),
        }
        for key, value in json.loads(extra or "{}").items():
            record.setdefault(key, value)
        record.update(
            {
                "first_seen_at": first,
                "last_seen_at": last,
                "gone_at": gone,
                "version_count": versions,
                "author_former_names": json.loads(former),
            }
        )
        yield record


def page_ids(conn: sqlite3.Connection, *, site: str | None = None) -> list[int]:
    """Ids of the stored pages, oldest fetch first (the order `hoard reparse` reads them)."""
    sql = "SELECT id FROM pages" + (" WHERE site = ?" if site else "")
    rows = conn.execute(sql + " ORDER BY last_fetched_at, id", (site,) if site else ())
    return [int(pid) for (pid,) in rows]


def iter_pages(conn: sqlite3.Connection, ids: list[int]) -> Iterator[dict[str, Any]]:
    """The stored raw pages `ids`, bodies decompressed, one at a time (constant memory); each
    with its row's `packed` body (`archive.packing.PackedBody`: sha256 and stored bytes), so
    writing it again needs no hashing."""
    from reviewhoard.archive.packing import PackedBody

    for page_id in ids:
        row = conn.execute(
            "SELECT id, url, final_url, status, headers, site, fetched_at, last_fetched_at, "
            "parser_version, compression, body, sha256 FROM pages WHERE id = ?",
            (page_id,),
        ).fetchone()
        if row is None:
            continue
        pid, url, final_url, status, headers, site, fetched, last, version, comp, blob, sha = row
        body = _decompress(comp, blob)
        yield {
            "id": pid,
            "url": url,
            "final_url": final_url,
            "status": status,
            "headers": json.loads(headers),
            "site": site,
            "fetched_at": fetched,
            "last_fetched_at": last,
            "parser_version": version,
            "body": body,
            "packed": PackedBody(sha, comp, blob, len(body)),
        }


_NESTED: dict[str, tuple[str, ...]] = {
    "subject": ("subject_type", "subject_id", "subject_title", "subject_url"),
    "author": ("author_name", "author_url"),
    "progress": ("progress_seen", "progress_total", "progress_unit"),
}

CSV_COLUMNS: tuple[str, ...] = (
    *(c for f in CONTRACT_FIELDS for c in _NESTED.get(f, (f,))),
    *ARCHIVE_FIELDS,
    "extra",
)
"""The columns of `hoard export --format csv`, nested values as JSON."""

_KNOWN_KEYS = frozenset(CONTRACT_FIELDS) | frozenset(ARCHIVE_FIELDS)


def csv_row(record: dict[str, Any]) -> list[Any]:
    """An exported review as one CSV row of `CSV_COLUMNS` (lists and objects as JSON)."""
    flat: dict[str, Any] = {
        column: (record[name] or {}).get(column.removeprefix(name + "_"))
        for name, columns in _NESTED.items()
        for column in columns
    }
    flat["extra"] = json.dumps(
        {k: v for k, v in record.items() if k not in _KNOWN_KEYS}, ensure_ascii=False
    )
    row: list[Any] = []
    for column in CSV_COLUMNS:
        value = flat[column] if column in flat else record.get(column)
        if isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        row.append("" if value is None else value)
    return row


_REVIEW_DETAIL_SQL = """
SELECT r.site, r.review_id, r.url, r.subject_type, r.subject_id,
       coalesce(r.subject_title, s.title), s.url, r.author_id, r.author_name, a.url,
       a.former_names, a.renamed_at, r.published_at, r.rating, r.rating_scale, r.recommendation,
       r.is_spoiler, r.is_preliminary, r.progress_seen, r.progress_total, r.progress_unit,
       r.sub_scores, r.text, r.content_hash, r.version_count, r.first_seen_at, r.last_seen_at,
       r.gone_at, r.page_id
FROM reviews r
JOIN authors a ON a.id = r.author_id
LEFT JOIN subjects s ON s.site = r.site AND s.type = r.subject_type AND s.subject_id = r.subject_id
WHERE r.site = ? AND r.review_id = ?
"""
_REVIEW_DETAIL_KEYS = (
    "site",
    "review_id",
    "url",
    "subject_type",
    "subject_id",
    "subject_title",
    "subject_url",
    "author_id",
    "author_name",
    "author_url",
    "former_names",
    "renamed_at",
    "published_at",
    "rating",
    "rating_scale",
    "recommendation",
    "is_spoiler",
    "is_preliminary",
    "progress_seen",
    "progress_total",
    "progress_unit",
    "sub_scores",
    "text",
    "content_hash",
    "version_count",
    "first_seen_at",
    "last_seen_at",
    "gone_at",
    "page_id",
)


def review_detail(conn: sqlite3.Connection, site: str, review_id: str) -> dict[str, Any] | None:
    """Everything the archive knows of one review, for its page: the current state (with the
    author's former names), every version with its own text in the order first seen, the
    reaction counts over time (one point per reaction and observation), the tags and the raw
    pages it was read from. None when the review is not archived."""
    row = conn.execute(_REVIEW_DETAIL_SQL, (site, review_id)).fetchone()
    if row is None:
        return None
    out: dict[str, Any] = dict(zip(_REVIEW_DETAIL_KEYS, row, strict=True))
    out["rating"], out["rating_scale"] = _number(out["rating"]), _number(out["rating_scale"])
    out["former_names"] = json.loads(out["former_names"] or "[]")
    out["sub_scores"] = json.loads(out["sub_scores"]) if out["sub_scores"] else None
    key = (site, review_id)
    out["versions"] = [
        {
            "id": vid,
            "rating": _number(rating),
            "text": text
            if text is not None
            else (out["text"] if digest == out["content_hash"] else ""),
            "is_current": digest == out["content_hash"],
            "first_seen_at": first,
            "last_seen_at": last,
            "page_id": page_id,
            "crawl_id": crawl_id,
        }
        for vid, digest, rating, text, first, last, page_id, crawl_id in conn.execute(
            "SELECT id, content_hash, rating, text, first_seen_at, last_seen_at, page_id, "
            "crawl_id FROM review_versions WHERE site = ? AND review_id = ? "
            "ORDER BY first_seen_at, id",
            key,
        )
    ]
    observations = conn.execute(
        "SELECT observed_at, reactions, helpful_count, page_id FROM reaction_counts "
        "WHERE site = ? AND review_id = ? ORDER BY observed_at, id",
        key,
    ).fetchall()
    out["reaction_points"] = [
        {"observed_at": at, "reaction": name, "count": count}
        for at, reactions, helpful, _page in observations
        for name, count in (
            *(json.loads(reactions).items() if reactions else ()),
            *((("found helpful", helpful),) if helpful is not None else ()),
        )
        if isinstance(count, int | float)
    ]
    out["reaction_observations"] = [
        {
            "observed_at": at,
            "reactions": json.loads(reactions) if reactions else None,
            "helpful_count": helpful,
            "page_id": page,
        }
        for at, reactions, helpful, page in observations
    ]
    out["tags"] = [
        slug
        for (slug,) in conn.execute(
            "SELECT t.slug FROM review_tags rt JOIN tags t ON t.id = rt.tag_id "
            "WHERE rt.site = ? AND rt.review_id = ? ORDER BY rt.position",
            key,
        )
    ]
    page_ids = sorted(
        {p for p in (out["page_id"], *(v["page_id"] for v in out["versions"])) if p is not None}
    )
    out["pages"] = {
        pid: {"id": pid, "url": url, "status": status, "fetched_at": at, "last_fetched_at": last}
        for pid, url, status, at, last in conn.execute(
            "SELECT id, url, status, fetched_at, last_fetched_at FROM pages "
            f"WHERE id IN ({', '.join('?' * len(page_ids))})",
            page_ids,
        )
    }
    return out


def raw_page(conn: sqlite3.Connection, page_id: int) -> tuple[bytes, dict[str, Any]] | None:
    """A stored page's original body and its response headers; None when there is none."""
    row = conn.execute(
        "SELECT compression, body, headers FROM pages WHERE id = ?", (page_id,)
    ).fetchone()
    if row is None:
        return None
    return _decompress(row[0], row[1]), json.loads(row[2] or "{}")


def page_fetched(conn: sqlite3.Connection, sha256: str, fetched_at: str) -> bool:
    """True when the archive holds this body as fetched at exactly `fetched_at` (the first or the
    latest fetch of it): the same capture, already written (a writer handed it again)."""
    row = conn.execute(
        "SELECT 1 FROM pages WHERE sha256 = ? AND (fetched_at = ? OR last_fetched_at = ?)",
        (sha256, fetched_at, fetched_at),
    ).fetchone()
    return row is not None


def _decompress(compression: str, blob: bytes) -> bytes:
    # The store (and zstandard) load only when a page body is asked for.
    from reviewhoard.archive.packing import decompress_body

    return decompress_body(compression, blob)
