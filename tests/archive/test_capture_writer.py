"""The capture crosses from fetching to the writer without loss, and the one writer gives the
same archive whatever order two crawls' captures reach it in."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.items import Capture, FeedWalked
from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import all_sites
from tests.conftest import fixtures_dir


def saved_captures() -> list[Capture]:
    """A capture of every saved page of every site: its reviews, or the parser's refusal."""
    out: list[Capture] = []
    for site in all_sites().values():
        folder = fixtures_dir() / (site.fixtures_folder or site.key)
        for name, url in sorted(site.saved_pages.items()):
            body = (folder / name).read_bytes()
            capture = Capture(
                url=url,
                final_url=url,
                status=200,
                headers={"content-type": "text/html; charset=utf-8"},
                body=body,
                fetched_at="2026-11-30T12:00:00Z",
                site=site.key,
                parser_version=site.parser.PARSER_VERSION,
                feed=f"saved:{name}",
                page=1,
            )
            try:
                capture.reviews = site.parser.parse(body, url).reviews
            except PageError as exc:
                capture.refused = exc.reason
            out.append(capture)
    return out


def test_every_saved_page_round_trips_through_bytes() -> None:
    captures = saved_captures()
    assert len(captures) >= 20
    assert sum(len(c.reviews) for c in captures) > 300
    assert any(c.refused for c in captures)
    for capture in captures:
        again = Capture.from_bytes(capture.to_bytes())
        assert again == capture, capture.url
        assert again.body == capture.body
        assert [r.to_dict() for r in again.reviews] == [r.to_dict() for r in capture.reviews]


def test_a_feed_event_round_trips_through_bytes() -> None:
    event = FeedWalked("myanimelist", "anime:1", "anime", "1", ["7406", "104803"], "2026-01-01Z")
    assert FeedWalked.from_bytes(event.to_bytes()) == event


MAL = "https://myanimelist.net"
SAO = f"{MAL}/anime/11757/Sword_Art_Online"
YURI = f"{MAL}/anime/32995/Yuri_on_Ice/reviews"
BEBOP = f"{MAL}/anime/1/Cowboy_Bebop/reviews"
CRAWL_A = [  # one crawl: a title's tab, then another title's (old layout)
    ("anime-1-reviews-2022-10.html", BEBOP, "2026-11-30T10:00:00Z"),
    ("anime-32995-reviews-2017-old.html", YURI, "2026-11-30T10:00:02Z"),
    ("manga-1-reviews-2026-01.html", f"{MAL}/manga/1/Monster/reviews", "2026-11-30T10:00:04Z"),
]
CRAWL_B = [  # another crawl at the same time: main pages, and the same tab again
    ("anime-11757-main-2023-02.html", SAO, "2026-11-30T10:00:01Z"),
    ("anime-1-reviews-2022-10.html", BEBOP, "2026-11-30T10:00:03Z"),
    ("manga-1706-main-2024-05.html", f"{MAL}/manga/1706/JoJo", "2026-11-30T10:00:05Z"),
]


THEN = [  # a crawl in 2018 (old layout) ...
    ("anime-1-reviews-2018-12-old.html", BEBOP, "2018-12-15T00:00:00Z"),
    ("anime-11757-main-2016-12-old.html", SAO, "2018-12-15T00:02:00Z"),
]
NOW = [  # ... and one in 2022 (new layout, two edits, a renamed author), imported first
    ("anime-1-reviews-2022-10.html", BEBOP, "2022-10-01T00:00:00Z"),
    ("anime-11757-main-2023-02.html", SAO, "2022-10-01T00:02:00Z"),
]


def test_an_old_crawl_written_last_gives_the_same_archive_as_in_time_order(tmp_path: Path):
    then, now = crawl_captures(THEN), crawl_captures(NOW)
    write_all(tmp_path / "in-order.db", [*then, *now], [])
    write_all(tmp_path / "late.db", [*now, *then], [])
    first, second = archive_rows(tmp_path / "in-order.db"), archive_rows(tmp_path / "late.db")
    renamed = [a for a in first["authors"] if a[1] == "kekekeKaj"]
    assert renamed and "kajia" in renamed[0][3] and renamed[0][4] is not None
    assert any(r[4] == 161 for r in first["reaction_counts"])  # old "helpful" kept
    for table in first:
        assert first[table] == second[table], table


def crawl_captures(pages: list[tuple[str, str, str]]) -> list[Capture]:
    site = all_sites()["myanimelist"]
    out = []
    for name, url, at in pages:
        body = (fixtures_dir() / "myanimelist" / name).read_bytes()
        out.append(
            Capture(
                url,
                url,
                200,
                {},
                body,
                at,
                site.key,
                "1",
                reviews=site.parser.parse(body, url).reviews,
            )
        )
    return out


def archive_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's content as it means something (page ids and run ids replaced by what they
    name), sorted, so two archives can be compared."""
    conn = sqlite3.connect(db)
    page = "(SELECT sha256 FROM pages p WHERE p.id = t.page_id)"
    queries = {
        "reviews": f"SELECT t.*, {page} FROM reviews t",
        "review_versions": f"SELECT site, review_id, content_hash, rating, text, first_seen_at, "
        f"last_seen_at, {page} FROM review_versions t",
        "reaction_counts": f"SELECT site, review_id, observed_at, reactions, helpful_count, {page} "
        "FROM reaction_counts t",
        "authors": "SELECT site, name, url, former_names, renamed_at, first_seen_at, last_seen_at "
        "FROM authors",
        "subjects": "SELECT * FROM subjects",
        "review_tags": "SELECT rt.site, rt.review_id, t.slug, rt.position FROM review_tags rt "
        "JOIN tags t ON t.id = rt.tag_id",
        "pages": "SELECT sha256, url, final_url, status, site, fetched_at, last_fetched_at, "
        "fetch_count FROM pages",
    }
    out = {}
    for table, sql in queries.items():
        rows = conn.execute(sql).fetchall()
        if table == "reviews":  # page_id and author_id depend on insertion order
            names = [d[0] for d in conn.execute(sql).description]
            drop = {names.index("page_id"), names.index("author_id")}
            rows = [tuple(v for i, v in enumerate(r) if i not in drop) for r in rows]
        out[table] = sorted(rows, key=repr)
    conn.close()
    return out


def write_all(db: Path, captures: list[Capture], events: list[FeedWalked]) -> None:
    writer = ArchiveWriter(str(db), command="test", batch_size=25)
    for capture in captures:
        writer.write(capture)
    for event in events:
        writer.feed_walked(event)
    writer.finish()


@pytest.mark.parametrize("order", ["b-first", "alternating"])
def test_two_crawls_interleaved_give_the_same_archive_as_in_order(tmp_path: Path, order: str):
    a, b = crawl_captures(CRAWL_A), crawl_captures(CRAWL_B)
    seen = [r.review_id for r in a[0].reviews][:-1]  # the last one no longer shown: gone
    events = [FeedWalked("myanimelist", "anime:1", "anime", "1", seen, "2026-11-30T10:00:09Z")]
    write_all(tmp_path / "in-order.db", [*a, *b], events)
    mixed = [*b, *a] if order == "b-first" else [b[0], a[0], b[1], a[1], b[2], a[2]]
    write_all(tmp_path / "mixed.db", mixed, events)
    first, second = archive_rows(tmp_path / "in-order.db"), archive_rows(tmp_path / "mixed.db")
    assert len(first["reviews"]) == 20 + 20 + 20 + 3 + 3
    gone_at = [r for r in first["reviews"] if r[-3] is not None]
    assert len(gone_at) == 1 and gone_at[0][1] == a[0].reviews[-1].review_id
    for table in first:
        assert first[table] == second[table], table
