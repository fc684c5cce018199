"""The standard tools on the archive: sqlite-utils and plain Datasette find the search index,
whoever writes `reviews` keeps it in step (the store itself, other programs by the triggers),
an archive made before is migrated to it, and `review_history` gives each version its own text."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from datasette.utils import detect_fts
from sqlite_utils import Database

from reviewhoard.archive.schema import FTS_AUTOMERGE, FTS_HASH_SIZE
from reviewhoard.archive.store import open_archive
from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.items import Capture
from reviewhoard.sites import all_sites
from tests.archive.test_migrations import filled_archive
from tests.conftest import fixtures_dir

SQLITE_UTILS = str(Path(sys.executable).parent / "sqlite-utils")
MONSTER = "https://myanimelist.net/manga/1/Monster/reviews"


def search(conn: sqlite3.Connection, query: str) -> list[str]:
    return [
        rid
        for (rid,) in conn.execute(
            "SELECT r.review_id FROM reviews_fts JOIN reviews r ON r.rowid = reviews_fts.rowid "
            "WHERE reviews_fts MATCH ? ORDER BY r.review_id",
            (query,),
        )
    ]


def integrity(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO reviews_fts (reviews_fts) VALUES ('integrity-check')")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    db = tmp_path / "archive.db"
    filled_archive(db)  # Cowboy Bebop, 2018 then 2022: 24 reviews, two of them edited
    return db


def test_sqlite_utils_and_datasette_find_the_search_index(archive: Path):
    assert Database(archive).table("reviews").detect_fts() == "reviews_fts"
    with sqlite3.connect(archive) as conn:
        assert detect_fts(conn, "reviews") == "reviews_fts"
    out = subprocess.run(
        [SQLITE_UTILS, "search", str(archive), "reviews", "kekekeKaj", "-c", "review_id", "--csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines() == ["review_id", "25239"]
    hits = json.loads(
        subprocess.run(
            [SQLITE_UTILS, "search", str(archive), "reviews", "bounty hunters", "-c", "review_id"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert len(hits) == 8 and "7406" in {h["review_id"] for h in hits}


def test_the_store_indexes_each_review_once(archive: Path):
    with sqlite3.connect(archive) as conn:
        integrity(conn)
        reviews = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM reviews_fts_docsize").fetchone()[0]
        assert (reviews, indexed) == (24, 24)
        assert search(conn, "kekekeKaj") == ["25239"]
        # The author renamed between 2018 and 2022 is found by the new name only.
        assert search(conn, "author_name:GonzoLewd") == ["144725"]
        assert search(conn, 'author_name:"Gonzo-lewd"') == []


def test_another_program_writing_reviews_keeps_the_index_in_step(archive: Path):
    with sqlite3.connect(archive) as conn:  # a plain connection: not the store
        conn.execute(
            "UPDATE reviews SET text = 'zanzibar quokka' WHERE site = 'myanimelist' "
            "AND review_id = '25239'"
        )
        conn.execute(
            "UPDATE reviews SET author_name = 'Renamed Elsewhere' WHERE review_id = '7406'"
        )
        conn.commit()
        integrity(conn)
        assert search(conn, "quokka") == ["25239"]
        assert "25239" not in search(conn, "text:bebop") and "25239" in search(conn, "bebop")
        assert search(conn, "author_name:elsewhere") == ["7406"]
        assert search(conn, "author_name:TheLlama") == []
    db = Database(archive)  # sqlite-utils, as `sqlite-utils insert` would write
    row = dict(next(db.table("reviews").rows_where("review_id = ?", ["25239"])))
    row.update(review_id="999001", text="a platypus review", url="https://example.org/999001")
    db.table("reviews").insert(row)
    db.table("reviews").delete(("myanimelist", "104803"))
    db.conn.commit()
    with sqlite3.connect(archive) as conn:
        integrity(conn)
        assert search(conn, "platypus") == ["999001"]
        assert "104803" not in search(conn, "bebop OR cowboy OR anime")
        assert conn.execute("SELECT count(*) FROM reviews_fts_docsize").fetchone()[0] == 24
    # The store's own statements are left alone by the triggers (it indexes by itself)...
    with open_archive(archive) as store:
        store.conn.execute("BEGIN")
        store.conn.execute("UPDATE reviews SET text = 'wombat' WHERE review_id = '11943'")
        store.conn.execute(
            "INSERT INTO reviews (site, review_id, url, subject_type, "
            "subject_id, author_id, author_name, published_at, text, "
            "content_hash, first_seen_at, last_seen_at) SELECT site, 'x1', url, "
            "subject_type, subject_id, author_id, author_name, published_at, "
            "'wombat', 'h', first_seen_at, last_seen_at FROM reviews LIMIT 1"
        )
        unindexed = search(store.conn, "wombat")
        store.conn.execute("ROLLBACK")
    assert unindexed == []
    # ...and it goes on writing over the other program's changes, indexing each review once.
    writer = ArchiveWriter(str(archive), command="test")
    body = (fixtures_dir() / "myanimelist" / "manga-1-reviews-2026-01.html").read_bytes()
    reviews = all_sites()["myanimelist"].parser.parse(body, MONSTER).reviews
    writer.write(
        Capture(
            MONSTER,
            MONSTER,
            200,
            {},
            body,
            "2026-01-20T00:00:00Z",
            "myanimelist",
            "1",
            reviews=reviews,
        )
    )
    writer.finish()
    with sqlite3.connect(archive) as conn:
        integrity(conn)
        count = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
        assert count == 44
        assert conn.execute("SELECT count(*) FROM reviews_fts_docsize").fetchone()[0] == count
        assert search(conn, "platypus") == ["999001"]


def test_an_archive_made_before_is_migrated_with_the_same_search(archive: Path):
    conn = sqlite3.connect(archive)
    before = {q: search(conn, q) for q in ("bebop", "spike jet", "author_name:kekekeKaj")}
    assert len(before["bebop"]) >= 15
    # The layout of migration 0007: FTS spelled content='reviews', no triggers, no view.
    conn.executescript(
        """
        DROP TRIGGER reviews_fts_after_insert;
        DROP TRIGGER reviews_fts_after_delete;
        DROP TRIGGER reviews_fts_after_update;
        DROP VIEW review_history;
        DROP TABLE reviews_fts;
        CREATE VIRTUAL TABLE reviews_fts USING fts5(
            text, subject_title, author_name,
            content='reviews', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
        );
        INSERT INTO reviews_fts(reviews_fts) VALUES ('rebuild');
        DELETE FROM _sqlite_migrations WHERE name LIKE '0008%' OR name LIKE '0009%';
        """
    )
    conn.close()
    assert Database(archive).table("reviews").detect_fts() is None  # what the issue saw

    open_archive(archive).close()  # the migrations run on open

    assert Database(archive).table("reviews").detect_fts() == "reviews_fts"
    conn = sqlite3.connect(archive)
    assert {q: search(conn, q) for q in before} == before
    integrity(conn)
    config = dict(conn.execute("SELECT k, v FROM reviews_fts_config WHERE k != 'version'"))
    assert config == {"hashsize": FTS_HASH_SIZE, "automerge": FTS_AUTOMERGE}
    triggers = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert triggers == {
        "reviews_fts_after_insert",
        "reviews_fts_after_delete",
        "reviews_fts_after_update",
    }
    conn.close()


def test_review_history_gives_every_version_its_own_text(archive: Path):
    conn = sqlite3.connect(archive)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(
        "SELECT * FROM review_history WHERE site = 'myanimelist' AND review_id = '144725' "
        "ORDER BY version"
    ).fetchall()
    current = conn.execute("SELECT text FROM reviews WHERE review_id = '144725'").fetchone()[0]
    stored = conn.execute(
        "SELECT text FROM review_versions WHERE review_id = '144725' ORDER BY first_seen_at"
    ).fetchall()
    assert [r["version"] for r in rows] == [1, 2]
    assert [r["versions"] for r in rows] == [2, 2]
    assert [r["is_current"] for r in rows] == [0, 1]
    assert stored[1][0] is None  # the current version's text is stored once, in reviews
    assert rows[0]["text"] == stored[0][0] and rows[0]["text"].startswith("All things considered")
    assert rows[1]["text"] == current and current.startswith("There’s nothing quite like it")
    assert rows[0]["previous_text"] is None
    assert rows[1]["previous_text"] == rows[0]["text"]
    assert [r["first_seen_at"][:10] for r in rows] == ["2018-12-15", "2022-10-01"]
    unedited = conn.execute(
        "SELECT version, versions, is_current, text = (SELECT text FROM reviews "
        "WHERE review_id = '25239') FROM review_history WHERE review_id = '25239'"
    ).fetchall()
    assert [tuple(r) for r in unedited] == [(1, 1, 1, 1)]
    conn.close()
