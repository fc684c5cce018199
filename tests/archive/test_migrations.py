"""Migrations that rebuild a table keep every row, its rowid (the full-text index's key), the
indexes, the views and the foreign keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from reviewhoard.archive.store import open_archive
from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.items import Capture
from reviewhoard.sites import all_sites
from tests.conftest import fixtures_dir

BEBOP = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"


def filled_archive(db: Path) -> None:
    site = all_sites()["myanimelist"]
    writer = ArchiveWriter(str(db), command="test")
    for name, at in (
        ("anime-1-reviews-2018-12-old.html", "2018-12-15T00:00:00Z"),
        ("anime-1-reviews-2022-10.html", "2022-10-01T00:00:00Z"),
    ):
        body = (fixtures_dir() / "myanimelist" / name).read_bytes()
        reviews = site.parser.parse(body, BEBOP).reviews
        writer.write(Capture(BEBOP, BEBOP, 200, {}, body, at, site.key, "1", reviews=reviews))
    writer.finish()


def snapshot(conn: sqlite3.Connection) -> dict[str, object]:
    return {
        "rows": conn.execute("SELECT rowid, * FROM reviews ORDER BY rowid").fetchall(),
        "search": conn.execute(
            "SELECT r.rowid, r.review_id FROM reviews_fts JOIN reviews r "
            "ON r.rowid = reviews_fts.rowid WHERE reviews_fts MATCH 'spike' ORDER BY r.rowid"
        ).fetchall(),
        "edited": conn.execute("SELECT * FROM edited_reviews ORDER BY 1, 2").fetchall(),
        "indexes": sorted(
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reviews'"
            )
        ),
    }


def test_url_and_date_become_nullable_without_losing_a_row(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    filled_archive(db)
    conn = sqlite3.connect(db)
    before = snapshot(conn)
    assert len(before["rows"]) == 24 and before["search"] and before["edited"]  # type: ignore[arg-type]
    # Put the archive back as it was before the migration: url and published_at NOT NULL.
    table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'reviews'").fetchone()[0]
    old_sql = table_sql.replace("url TEXT,", "url TEXT NOT NULL,", 1).replace(
        "published_at TEXT,", "published_at TEXT NOT NULL,", 1
    )
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'reviews'", (old_sql,))
    conn.execute("PRAGMA writable_schema = OFF")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name LIKE '0007b%'")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(db)
    assert [r[3] for r in conn.execute("PRAGMA table_info(reviews)") if r[1] == "url"] == [1]
    conn.close()

    open_archive(db).close()  # the migration runs on open

    conn = sqlite3.connect(db)
    info = {r[1]: r[3] for r in conn.execute("PRAGMA table_info(reviews)")}
    assert (info["url"], info["published_at"], info["text"]) == (0, 0, 1)
    assert snapshot(conn) == before
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute(
        "SELECT count(*) FROM _sqlite_migrations WHERE name LIKE '0007b%'"
    ).fetchone() == (1,)


def test_an_archive_from_a_newer_reviewhoard_is_refused_and_never_written(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "archive.db"
    filled_archive(db)
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('reviewhoard', '0099_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    before = db.read_bytes()
    page = fixtures_dir() / "myanimelist" / "anime-1-reviews-2022-10.html"
    done = subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", "import", str(page), "--url", BEBOP,
         "--db", str(db)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"hoard: {db} was written by a newer reviewhoard (migration 0099_from_the_future is "
        "unknown to this one): upgrade reviewhoard to use it; nothing was written\n"
    )
    assert db.read_bytes() == before


def test_programs_opening_a_new_archive_at_once_take_turns_migrating(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "archive.db"
    code = (
        "import sys; from reviewhoard.archive.store import open_archive; "
        "open_archive(sys.argv[1]).close()"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(db)], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], errors
    conn = sqlite3.connect(db)
    names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    assert len(names) == len(set(names)) > 5
