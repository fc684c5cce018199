"""The archive's semantics on a real SQLite file, fed with the MAL fixtures' expected records
(correct parser output), so these tests do not depend on the parser's state."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from reviewhoard.archive.connection import connect
from reviewhoard.archive.hashing import content_hash
from reviewhoard.archive.packing import decompress_body
from reviewhoard.archive.queries import review_hashes
from reviewhoard.archive.schema import apply_migrations, migrations
from reviewhoard.archive.store import Archive, Reject
from reviewhoard.items import Author, RawPage, Review

BEBOP_URL = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
OLD, NEW = "anime-1-reviews-2018-12-old", "anime-1-reviews-2022-10"
# Times are the capture dates: the archive dates what it sees by when the page was fetched.
OLD_AT, NEW_AT, LATER_AT = "2018-12-15T00:00:00Z", "2022-10-15T00:00:00Z", "2026-01-01T00:00:00Z"


def records(mal_fixtures: Path, name: str) -> list[Review]:
    lines = (mal_fixtures / f"{name}.expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [Review.from_dict(json.loads(line)) for line in lines]


def raw_page(mal_fixtures: Path, name: str, fetched_at: str, url: str = BEBOP_URL) -> RawPage:
    return RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=(mal_fixtures / f"{name}.html").read_bytes(),
        fetched_at=fetched_at,
        site="myanimelist",
        parser_version="test",
    )


def page_entries(mal_fixtures: Path, name: str, fetched_at: str) -> list[Any]:
    return [raw_page(mal_fixtures, name, fetched_at), *records(mal_fixtures, name)]


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def dump(db: Path, skip_columns: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows with some columns left out, for before/after comparisons."""
    conn = sqlite3.connect(db)
    try:
        out = {}
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            cols = [c[1] for c in conn.execute(f"PRAGMA table_info([{table}])")]
            keep = ", ".join(f"[{c}]" for c in cols if c not in skip_columns)
            out[table] = conn.execute(f"SELECT {keep} FROM [{table}] ORDER BY 1, 2").fetchall()
        return out
    finally:
        conn.close()


def assert_versions_consistent(db: Path) -> None:
    """Every review has its current version, whose text is kept once (in reviews.text, NULL in
    the version row); every earlier version keeps its own text; version_count counts them."""
    assert (
        rows(
            db,
            "SELECT r.review_id FROM reviews r WHERE r.version_count != (SELECT count(*) "
            "FROM review_versions v WHERE v.site = r.site AND v.review_id = r.review_id) "
            "OR 1 != (SELECT count(*) FROM review_versions v WHERE v.site = r.site "
            "AND v.review_id = r.review_id AND v.content_hash = r.content_hash "
            "AND v.text IS NULL)",
        )
        == []
    )
    assert (
        rows(
            db,
            "SELECT v.id FROM review_versions v JOIN reviews r USING (site, review_id) "
            "WHERE v.content_hash != r.content_hash AND v.text IS NULL",
        )
        == []
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


def store(db: Path, entries: list[Any]) -> Any:
    with Archive(db) as archive:
        return archive.write(entries)


def test_new_archive_has_every_table_and_records_its_migrations(db: Path):
    Archive(db).close()
    names = {n for (n,) in rows(db, "SELECT name FROM sqlite_master WHERE type IN ('table')")}
    for table in (
        "reviews",
        "review_versions",
        "reaction_counts",
        "subjects",
        "authors",
        "tags",
        "review_tags",
        "pages",
        "crawls",
        "rejects",
        "reviews_fts",
    ):
        assert table in names
    applied = rows(db, "SELECT migration_set, name FROM _sqlite_migrations ORDER BY id")
    every = [m.name for m in migrations.pending(Database(memory=True))]
    assert every[:2] == ["0001_initial", "0002_edited_reviews_view"]
    assert applied == [("reviewhoard", name) for name in every]
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]
    assert rows(db, "PRAGMA page_size") == [(8192,)]
    conn = connect(db)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    # The writer checkpoints past 64 MB of WAL, counted in pages of the file's size.
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (64 * 1024 * 1024 // 8192,)
    conn.close()


def test_an_older_archive_is_upgraded_when_opened(db: Path, mal_fixtures: Path):
    old = Database(connect(db))
    migrations.apply(old, stop_before="0002_edited_reviews_view")
    old.conn.close()
    assert rows(db, "SELECT name FROM _sqlite_migrations") == [("0001_initial",)]
    store(db, page_entries(mal_fixtures, OLD, OLD_AT))
    applied = [n for (n,) in rows(db, "SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert applied == [m.name for m in migrations.pending(Database(memory=True))]
    assert applied[1] == "0002_edited_reviews_view"
    assert rows(db, "SELECT count(*) FROM edited_reviews") == [(0,)]
    assert apply_migrations(Database(connect(db))) == []
    # 0006: FTS5 write settings, kept in the index's config table.
    assert rows(db, "SELECT k, v FROM reviews_fts_config WHERE k != 'version' ORDER BY k") == [
        ("automerge", 16),
        ("hashsize", 16 * 1024 * 1024),
    ]
    assert rows(db, "SELECT count(*) FROM reviews_fts WHERE reviews_fts MATCH 'bebop'")[0][0] > 0


def test_an_archive_keeping_every_version_text_is_slimmed_on_upgrade(db: Path, mal_fixtures: Path):
    """Archives made before 0005 kept the current text twice (and text NOT NULL)."""
    old = Database(connect(db))
    migrations.apply(old, stop_before="0005_current_version_text_once")
    old.execute("DROP VIEW edited_reviews")
    old.table("review_versions").transform(not_null={"text": True})
    old.conn.close()
    first, *_ = records(mal_fixtures, NEW)
    edited = _edited(first, text="An earlier text.")
    conn = connect(db)
    conn.execute("INSERT INTO subjects VALUES ('myanimelist', 'anime', '1', NULL, NULL, 'a', 'a')")
    conn.execute(
        "INSERT INTO authors (id, site, name, first_seen_at, last_seen_at) "
        "VALUES (1, 'myanimelist', 'TheLlama', 'a', 'a')"
    )
    conn.execute(
        "INSERT INTO reviews (site, review_id, url, subject_type, subject_id, author_id, "
        "author_name, published_at, text, content_hash, version_count, first_seen_at, "
        "last_seen_at) VALUES ('myanimelist', '7406', 'u', 'anime', '1', 1, 'TheLlama', "
        "'2008-08-24', ?, ?, 2, 'a', 'b')",
        (first.text, content_hash(first)),
    )
    for review in (edited, first):
        conn.execute(
            "INSERT INTO review_versions (site, review_id, content_hash, rating, text, "
            "first_seen_at, last_seen_at) VALUES ('myanimelist', '7406', ?, 10, ?, 'a', 'b')",
            (content_hash(review), review.text),
        )
    conn.close()
    Archive(db).close()
    assert rows(db, "SELECT text FROM review_versions ORDER BY id") == [(edited.text,), (None,)]
    assert rows(db, "SELECT text, is_current FROM edited_reviews ORDER BY version_id") == [
        (edited.text, 0),
        (first.text, 1),
    ]
    assert_versions_consistent(db)


def test_first_page_stores_reviews_versions_page_and_search(db: Path, mal_fixtures: Path):
    result = store(db, page_entries(mal_fixtures, OLD, OLD_AT))
    assert (result.new, result.updated, result.unchanged, result.pages_stored) == (20, 0, 0, 1)
    review = rows(
        db,
        "SELECT author_name, rating, rating_scale, helpful_count, sub_scores, progress_seen, "
        "progress_total, progress_unit, version_count, first_seen_at, last_seen_at, gone_at, "
        "page_id FROM reviews WHERE review_id = '7406'",
    )[0]
    assert review[:4] == ("TheLlama", 10, 10, 1488)
    assert json.loads(review[4]) == {
        "overall": 10,
        "story": 10,
        "animation": 9,
        "sound": 10,
        "character": 10,
        "enjoyment": 9,
    }
    assert review[5:] == (
        26,
        26,
        "episodes",
        1,
        "2018-12-15T00:00:00.000000Z",
        "2018-12-15T00:00:00.000000Z",
        None,
        1,
    )
    assert rows(db, "SELECT count(*), count(DISTINCT review_id) FROM review_versions") == [(20, 20)]
    page = rows(db, "SELECT url, status, compression, body, body_size, sha256 FROM pages")[0]
    body = (mal_fixtures / f"{OLD}.html").read_bytes()
    assert page[:2] == (BEBOP_URL, 200)
    assert decompress_body(page[2], page[3]) == body
    assert page[4] == len(body) and len(page[3]) < len(body) // 2
    hits = rows(
        db,
        "SELECT r.review_id FROM reviews_fts JOIN reviews r ON r.rowid = reviews_fts.rowid "
        "WHERE reviews_fts MATCH 'author_name:TheLlama'",
    )
    assert hits == [("7406",)]


def test_same_page_twice_changes_nothing_but_last_seen(db: Path, mal_fixtures: Path):
    store(db, page_entries(mal_fixtures, NEW, NEW_AT))
    seen_columns = {"last_seen_at", "last_fetched_at", "fetch_count"}
    before = dump(db, seen_columns)
    again = store(db, page_entries(mal_fixtures, NEW, LATER_AT))
    assert (again.new, again.updated, again.unchanged, again.pages_stored) == (0, 0, 20, 0)
    assert dump(db, seen_columns) == before
    assert before["reviews"] and before["review_versions"] and before["pages"]
    assert rows(db, "SELECT DISTINCT last_seen_at FROM reviews") == [
        ("2026-01-01T00:00:00.000000Z",)
    ]
    assert rows(db, "SELECT fetch_count, fetched_at, last_fetched_at FROM pages") == [
        (2, NEW_AT, LATER_AT)
    ]


def test_a_stale_observation_hash_still_finds_the_review_unchanged(db: Path, mal_fixtures: Path):
    """`observed_hash` is only the store's shortcut: one that no longer matches (written by an
    older definition, or another Python's marshal) makes the store compare field by field, find
    nothing changed, and write the current hash."""
    store(db, page_entries(mal_fixtures, NEW, NEW_AT))
    current = rows(db, "SELECT review_id, observed_hash FROM reviews ORDER BY review_id")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE reviews SET observed_hash = 'stale'")
    conn.commit()
    conn.close()
    seen_columns = {"last_seen_at", "last_fetched_at", "fetch_count", "observed_hash"}
    before = dump(db, seen_columns)
    again = store(db, page_entries(mal_fixtures, NEW, LATER_AT))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 20)
    assert dump(db, seen_columns) == before
    assert rows(db, "SELECT review_id, observed_hash FROM reviews ORDER BY review_id") == current
    assert rows(db, "SELECT DISTINCT last_seen_at FROM reviews") == [
        ("2026-01-01T00:00:00.000000Z",)
    ]
    assert_versions_consistent(db)


def _edited(review: Review, **changes: Any) -> Review:
    return dataclasses.replace(review, **changes)


def test_edited_text_or_rating_adds_a_version_and_updates_the_review(db: Path, mal_fixtures: Path):
    first = records(mal_fixtures, NEW)[0]
    store(db, [raw_page(mal_fixtures, NEW, NEW_AT), first])
    edited = _edited(first, text=first.text + "\n\nEdit: still a masterpiece.")
    rerated = _edited(edited, rating=9)
    outcome = store(db, [edited])
    assert outcome.updated == 1
    store(db, [rerated])
    current = rows(
        db,
        "SELECT text, rating, version_count, content_hash FROM reviews WHERE review_id = ?",
        first.review_id,
    )[0]
    assert current == (rerated.text, 9, 3, content_hash(rerated))
    versions = rows(
        db,
        "SELECT coalesce(v.text, r.text), v.rating, v.content_hash FROM review_versions v "
        "JOIN reviews r USING (site, review_id) WHERE review_id = ? ORDER BY v.id",
        first.review_id,
    )
    assert_versions_consistent(db)
    assert versions == [
        (first.text, 10, content_hash(first)),
        (edited.text, 10, content_hash(edited)),
        (rerated.text, 9, content_hash(rerated)),
    ]
    found = rows(db, "SELECT rowid FROM reviews_fts WHERE reviews_fts MATCH 'masterpiece'")
    assert len(found) == 1
    assert rows(db, "INSERT INTO reviews_fts(reviews_fts) VALUES ('integrity-check')") == []


def test_a_new_review_and_its_edit_in_one_batch_make_two_versions(db: Path, mal_fixtures: Path):
    """The store skips the lookup of reviews it knows are new; a repeat in the batch is not."""
    first = records(mal_fixtures, NEW)[0]
    edited = _edited(first, text=first.text + "\n\nEdit: typo.")
    result = store(db, [raw_page(mal_fixtures, NEW, NEW_AT), first, edited, edited])
    assert [o for *_, o in result.outcomes] == ["new", "updated", "unchanged"]
    assert rows(db, "SELECT text, version_count FROM reviews") == [(edited.text, 2)]
    assert rows(db, "SELECT text, content_hash FROM review_versions ORDER BY id") == [
        (first.text, content_hash(first)),
        (None, content_hash(edited)),
    ]
    assert_versions_consistent(db)
    assert rows(db, "INSERT INTO reviews_fts(reviews_fts) VALUES ('integrity-check')") == []


def test_a_text_that_comes_back_is_the_old_version_again(db: Path, mal_fixtures: Path):
    first = records(mal_fixtures, NEW)[0]
    edited = _edited(first, text=first.text + "\n\nEdit: typo.")
    store(db, [first])
    store(db, [edited])
    back = store(db, [first])
    assert back.updated == 1
    assert rows(db, "SELECT version_count, text FROM reviews") == [(2, first.text)]
    assert rows(db, "SELECT text FROM review_versions ORDER BY id") == [(None,), (edited.text,)]
    assert_versions_consistent(db)


def test_reaction_change_adds_only_a_reaction_counts_row(db: Path, mal_fixtures: Path):
    first = records(mal_fixtures, NEW)[0]
    assert first.reactions is not None
    store(db, [first])
    before = dump(db, {"last_seen_at"})
    more = dict(first.reactions, nice=first.reactions["nice"] + 5)
    outcome = store(db, [_edited(first, reactions=more)])
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 0, 1)
    after = dump(db, {"last_seen_at"})
    assert after["review_versions"] == before["review_versions"]
    assert len(after["reaction_counts"]) == len(before["reaction_counts"]) + 1
    history = rows(
        db, "SELECT reactions FROM reaction_counts WHERE review_id = ? ORDER BY id", first.review_id
    )
    assert [json.loads(r)["nice"] for (r,) in history] == [
        first.reactions["nice"],
        first.reactions["nice"] + 5,
    ]
    assert rows(db, "SELECT version_count FROM reviews WHERE review_id = ?", first.review_id) == [
        (1,)
    ]


def test_author_rename_keeps_identity_and_old_name(db: Path, mal_fixtures: Path):
    first = records(mal_fixtures, NEW)[0]
    store(db, [first])
    (author_id,) = rows(db, "SELECT author_id FROM reviews")[0]
    outcome = store(db, [_edited(first, author=Author(name="NewName", url=None))])
    assert outcome.updated == 1
    assert rows(db, "SELECT id, name, former_names FROM authors") == [
        (author_id, "NewName", json.dumps([first.author.name]))
    ]
    assert rows(db, "SELECT author_id, author_name, version_count FROM reviews") == [
        (author_id, "NewName", 1)
    ]
    assert rows(db, "SELECT rowid FROM reviews_fts WHERE reviews_fts MATCH 'NewName'") == [(1,)]
    old_name = f"SELECT rowid FROM reviews_fts WHERE reviews_fts MATCH '{first.author.name}'"
    assert rows(db, old_name) == []
    assert rows(db, "SELECT count(*) FROM review_versions") == [(1,)]


def test_layout_change_alone_is_not_an_edit(db: Path, mal_fixtures: Path):
    """Review 7406 in the old layout (sub-scores, helpful votes), then in the new (reactions,
    tags): one version; the known values the new layout lacks are kept."""
    old = {r.review_id: r for r in records(mal_fixtures, OLD)}["7406"]
    new = {r.review_id: r for r in records(mal_fixtures, NEW)}["7406"]
    store(db, [raw_page(mal_fixtures, OLD, OLD_AT), old])
    outcome = store(db, [raw_page(mal_fixtures, NEW, NEW_AT), new])
    assert (outcome.updated, outcome.unchanged) == (0, 1)
    row = rows(
        db,
        "SELECT version_count, helpful_count, sub_scores, reactions, tags, recommendation, "
        "is_spoiler, progress_seen FROM reviews WHERE review_id = '7406'",
    )[0]
    assert row[0] == 1
    assert row[1] == 1488
    assert json.loads(row[2]) == old.sub_scores
    assert json.loads(row[3]) == new.reactions
    assert json.loads(row[4]) == ["recommended"]
    assert row[5:] == ("recommended", 0, 26)
    assert rows(db, "SELECT helpful_count FROM reaction_counts ORDER BY id") == [(1488,), (1488,)]


def test_cowboy_bebop_2018_then_2022(db: Path, mal_fixtures: Path):
    store(db, page_entries(mal_fixtures, OLD, OLD_AT))
    second = store(db, page_entries(mal_fixtures, NEW, NEW_AT))
    assert (second.new, second.updated, second.unchanged) == (4, 3, 13)
    old_ids = {r.review_id for r in records(mal_fixtures, OLD)}
    new_ids = {r.review_id for r in records(mal_fixtures, NEW)}
    both = old_ids & new_ids
    assert len(both) == 16
    versions = dict(rows(db, "SELECT review_id, version_count FROM reviews"))
    assert versions["293082"] == 2 and versions["144725"] == 2
    assert {rid: versions[rid] for rid in both - {"293082", "144725"}} == {
        rid: 1 for rid in both - {"293082", "144725"}
    }
    assert len(both - {"293082", "144725", "25239"}) == 13
    assert rows(
        db,
        "SELECT r.author_name, a.former_names FROM reviews r JOIN authors a ON a.id = r.author_id "
        "WHERE r.review_id = '25239'",
    ) == [("kekekeKaj", '["kajia"]')]
    assert rows(db, "SELECT count(*) FROM reviews") == [(len(old_ids | new_ids),)]
    assert rows(db, "SELECT count(DISTINCT review_id) FROM edited_reviews") == [(2,)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert_versions_consistent(db)
    old_293082 = {r.review_id: r for r in records(mal_fixtures, OLD)}["293082"].text
    assert rows(
        db, "SELECT text FROM edited_reviews WHERE review_id = '293082' ORDER BY first_seen_at"
    )[0] == (old_293082,)


def test_an_old_capture_imported_late_adds_history_without_rolling_back(
    db: Path, mal_fixtures: Path
):
    store(db, page_entries(mal_fixtures, NEW, NEW_AT))
    late = store(db, page_entries(mal_fixtures, OLD, OLD_AT))
    assert late.new == 4 and late.updated == 2
    current = {r.review_id: r for r in records(mal_fixtures, NEW)}
    old_ids = {r.review_id for r in records(mal_fixtures, OLD)}
    for rid, text, author, first_seen in rows(
        db, "SELECT review_id, text, author_name, first_seen_at FROM reviews"
    ):
        if rid in current:
            assert (text, author) == (current[rid].text, current[rid].author.name)
        if rid in old_ids:
            assert first_seen == "2018-12-15T00:00:00.000000Z"
    assert rows(db, "SELECT former_names FROM authors WHERE name = 'kekekeKaj'") == [('["kajia"]',)]
    assert rows(db, "SELECT version_count FROM reviews WHERE review_id = '293082'") == [(2,)]
    assert_versions_consistent(db)


def titled(reviews: list[Review], title: str | None) -> list[Review]:
    return [
        dataclasses.replace(r, subject=dataclasses.replace(r.subject, title=title)) for r in reviews
    ]


def test_an_old_capture_imported_late_never_turns_a_renamed_title_back(
    db: Path, mal_fixtures: Path
):
    reviews = records(mal_fixtures, NEW)[:2]
    body = raw_page(mal_fixtures, NEW, "2024-02-01T00:00:00Z")
    store(db, [body, *titled(reviews, "Cowboy Bebop (2024 title)")])
    # A capture of 2023 (other bytes, the title as it was then), imported after.
    older = dataclasses.replace(body, body=body.body + b" ", fetched_at="2023-01-01T00:00:00Z")
    store(db, [older, *titled(reviews, "Cowboy Bebop (2023 title)")])
    assert rows(db, "SELECT title, first_seen_at, last_seen_at FROM subjects") == [
        ("Cowboy Bebop (2024 title)", "2023-01-01T00:00:00.000000Z", "2024-02-01T00:00:00.000000Z")
    ]
    # A newer one renames it; an old one without a title leaves it; one filling a gap may.
    newer = dataclasses.replace(body, body=body.body + b"  ", fetched_at="2025-03-01T00:00:00Z")
    store(db, [newer, *titled(reviews, "Cowboy Bebop (2025 title)")])
    store(db, [dataclasses.replace(older, body=body.body + b"   "), *titled(reviews, None)])
    assert rows(db, "SELECT title FROM subjects") == [("Cowboy Bebop (2025 title)",)]
    assert rows(db, "SELECT DISTINCT subject_title FROM reviews") == [
        ("Cowboy Bebop (2025 title)",)
    ]


def test_review_hashes_for_update_mode(db: Path, mal_fixtures: Path):
    assert review_hashes(str(db), "myanimelist", ["7406"]) == {}
    assert not db.exists()
    reviews = records(mal_fixtures, NEW)
    store(db, reviews)
    # Read while another connection holds the write lock (WAL readers never wait).
    writer = connect(db)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE reviews SET text = 'uncommitted'")
    got = review_hashes(str(db), "myanimelist", [reviews[0].review_id, "no-such-review"])
    writer.execute("ROLLBACK")
    writer.close()
    assert got == {reviews[0].review_id: content_hash(reviews[0])}


def test_mark_gone_and_seen_again(db: Path, mal_fixtures: Path):
    reviews = records(mal_fixtures, NEW)
    with Archive(db) as archive:
        archive.write(reviews)
        crawl = archive.start_crawl("test", {"mode": "full"})
        seen = [r.review_id for r in reviews[1:]]
        assert archive.mark_gone("myanimelist", "anime", "1", seen, crawl) == 1
        assert archive.mark_gone("myanimelist", "anime", "1", seen, crawl) == 0
        gone = rows(db, "SELECT review_id FROM reviews WHERE gone_at IS NOT NULL")
        assert gone == [(reviews[0].review_id,)]
        archive.write([reviews[0]])
    assert rows(db, "SELECT count(*) FROM reviews WHERE gone_at IS NOT NULL") == [(0,)]


def test_crawl_rows_start_and_finish(db: Path):
    with Archive(db) as archive:
        crawl = archive.start_crawl("hoard crawl mal", {"anime": [1]})
        archive.record_crawl_counts(crawl, reviews_new=5, pages_stored=2)
        archive.finish_crawl(
            crawl, "alarm", requests=7, errors=1, alarms=["feed_empty"], finish_reason="finished"
        )
    row = rows(
        db,
        "SELECT command, args, outcome, reviews_new, pages_stored, requests, errors, alarms, "
        "finish_reason, finished_at IS NOT NULL FROM crawls",
    )
    assert row == [
        ("hoard crawl mal", '{"anime": [1]}', "alarm", 5, 2, 7, 1, '["feed_empty"]', "finished", 1)
    ]


def test_a_failing_batch_stores_nothing_of_itself(db: Path, mal_fixtures: Path):
    reviews = records(mal_fixtures, NEW)
    broken = dataclasses.replace(reviews[1], text=None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        store(db, [raw_page(mal_fixtures, NEW, NEW_AT), reviews[0], broken])
    assert rows(db, "SELECT (SELECT count(*) FROM reviews), (SELECT count(*) FROM pages)") == [
        (0, 0)
    ]
    result = store(db, [Reject(reason="text is empty", item={"review_id": "9"}), reviews[0]])
    assert (result.rejected, result.new) == (1, 1)
    assert rows(db, "SELECT review_id, reason, item FROM rejects") == [
        ("9", "text is empty", '{"review_id": "9"}')
    ]


KILLED_WRITER = """
import json, sys, itertools
import reviewhoard.archive.store
from reviewhoard.archive.store import Archive
# a background checkpoint after each write
reviewhoard.archive.store.WAL_CHECKPOINT_BYTES = 256 * 1024
from reviewhoard.items import RawPage, Review
lines = open(sys.argv[2], encoding="utf-8").read().splitlines()
base = [Review.from_dict(json.loads(line)) for line in lines]
body = open(sys.argv[3], "rb").read()
archive = Archive(sys.argv[1])
for n in itertools.count():
    page = RawPage(url=f"https://myanimelist.net/x?p={n}", final_url="https://myanimelist.net/x",
                   status=200, headers={}, body=body + str(n).encode(),
                   fetched_at="2026-01-01T00:00:00Z", site="myanimelist", parser_version="t")
    reviews = [Review.from_dict({**r.to_dict(), "review_id": f"{n}-{r.review_id}"}) for r in base]
    archive.write([page, *reviews])
    if n == 2:
        print("writing", flush=True)
"""


def test_sigkill_mid_write_leaves_whole_pages_and_a_sound_file(db: Path, mal_fixtures: Path):
    root = Path(__file__).resolve().parent.parent.parent
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_WRITER,
            str(db),
            str(mal_fixtures / f"{NEW}.expected.jsonl"),
            str(mal_fixtures / f"{NEW}.html"),
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    finally:
        proc.kill()
        proc.wait()
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    pages, reviews, versions = rows(
        db,
        "SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM reviews), "
        "(SELECT count(*) FROM review_versions)",
    )[0]
    assert pages >= 3
    assert reviews == versions == pages * 20
    assert rows(db, "INSERT INTO reviews_fts(reviews_fts) VALUES ('integrity-check')") == []


def test_checkpoints_run_beside_the_writer_and_leave_a_sound_file(
    db: Path, mal_fixtures: Path, monkeypatch: pytest.MonkeyPatch
):
    """The write-ahead log is folded back by the archive's checkpoint thread, not in the
    writer's commits; readers see every committed batch; closing empties the log."""
    monkeypatch.setattr("reviewhoard.archive.store.WAL_CHECKPOINT_BYTES", 64 * 1024)
    base = records(mal_fixtures, NEW)
    with Archive(db) as archive:
        # The writer's own checkpoint is only the backstop, at 4 x 64 KB of 8 KB pages.
        assert archive.conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (32,)
        for n in range(5):
            archive.write(
                [
                    raw_page(mal_fixtures, NEW, NEW_AT, url=f"{BEBOP_URL}?p={n}"),
                    *(dataclasses.replace(r, review_id=f"{n}-{r.review_id}") for r in base),
                ]
            )
        for _ in range(100):
            if archive._checkpointer.runs:
                break
            time.sleep(0.05)
        assert archive._checkpointer.runs >= 1
        assert rows(db, "SELECT count(*) FROM reviews") == [(5 * len(base),)]
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "SELECT count(*), count(DISTINCT review_id) FROM reviews") == [
        (5 * len(base), 5 * len(base))
    ]
