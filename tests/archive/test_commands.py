"""`hoard import`, `reparse`, `stats` and `export` as real processes on a real archive file, with
the real MAL parser over the saved pages."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reviewhoard.sites.myanimelist.parser import PARSER_VERSION
from tests.archive.test_store import BEBOP_URL, NEW, OLD, rows

ROOT = Path(__file__).resolve().parent.parent.parent


def hoard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture(scope="module")
def bebop(tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path) -> Path:
    """An archive fed the 2018 capture of Cowboy Bebop's reviews, then the 2022 one."""
    db = tmp_path_factory.mktemp("bebop") / "archive.db"
    first = hoard(
        "import",
        str(mal_fixtures / f"{OLD}.html"),
        "--url",
        BEBOP_URL,
        "--fetched-at",
        "2018-12-15T00:00:00Z",
        "--db",
        str(db),
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"imported 1 page: 20 reviews new, 0 updated, 0 unchanged, 0 rejected -> {db}\n"
    )
    second = hoard(
        "import", str(mal_fixtures / f"{NEW}.html"), "--url", BEBOP_URL, "--db", str(db), "--json"
    )
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {
        "pages": 1,
        "failed_pages": 0,
        "reviews_new": 4,
        "reviews_updated": 3,
        "reviews_unchanged": 13,
        "reviews_rejected": 0,
        "pages_stored": 1,
        "db": str(db),
    }
    return db


def test_import_keeps_both_versions_and_the_rename(bebop: Path):
    versions = dict(rows(bebop, "SELECT review_id, version_count FROM reviews"))
    assert versions["293082"] == 2 and versions["144725"] == 2
    assert sorted(rid for rid, n in versions.items() if n > 1) == ["144725", "293082"]
    assert len(versions) == 24
    assert rows(
        bebop,
        "SELECT r.author_name, a.former_names FROM reviews r JOIN authors a ON a.id = r.author_id "
        "WHERE r.review_id = '25239'",
    ) == [("kekekeKaj", '["kajia"]')]
    assert rows(bebop, "SELECT count(*), sum(fetch_count) FROM pages") == [(2, 2)]
    crawls = rows(bebop, "SELECT command, outcome, reviews_new, reviews_updated FROM crawls")
    assert crawls == [("hoard import", "ok", 20, 0), ("hoard import", "ok", 4, 3)]


def test_reparse_is_idempotent(bebop: Path, tmp_path: Path):
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(bebop)
    src.execute(f"VACUUM INTO '{copy}'")
    src.close()
    before = rows(copy, "SELECT review_id, content_hash, version_count, author_name FROM reviews")
    for _ in range(2):
        done = hoard("reparse", "--db", str(copy), "--json")
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["pages"] == 2 and summary["failed_pages"] == 0
        assert (summary["reviews_new"], summary["reviews_updated"]) == (0, 0)
        assert summary["reviews_unchanged"] == 40
    after = rows(copy, "SELECT review_id, content_hash, version_count, author_name FROM reviews")
    assert after == before and len(after) == 24
    assert rows(copy, "SELECT count(*) FROM review_versions") == [(26,)]
    assert rows(copy, "SELECT DISTINCT parser_version FROM pages") == [(PARSER_VERSION,)]


def test_stats_json_counts_tables_sites_and_subjects(bebop: Path):
    done = hoard("stats", "--json", "--db", str(bebop))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["reviews"], data["review_versions"], data["pages"]) == (24, 26, 2)
    assert data["crawls"] >= 2 and data["reviews_edited"] == 2 and data["reviews_gone"] == 0
    assert data["per_site"] == [
        {"site": "myanimelist", "reviews": 24, "subjects": 1, "authors": 24, "pages": 2}
    ]
    (subject,) = data["per_subject"]
    assert (subject["type"], subject["subject_id"], subject["reviews"]) == ("anime", "1", 24)
    assert subject["versions"] == 26
    text = hoard("stats", "--db", str(bebop))
    assert "reviews                  24" in text.stdout
    assert "site myanimelist: 24 reviews of 1 subjects" in text.stdout


def test_export_jsonl_is_the_record_plus_archive_fields(bebop: Path, mal_fixtures: Path):
    done = hoard("export", "--format", "jsonl", "--db", str(bebop))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 24
    by_id = {line["review_id"]: line for line in lines}
    expected = {
        json.loads(x)["review_id"]: json.loads(x)
        for x in (mal_fixtures / f"{NEW}.expected.jsonl").read_text("utf-8").splitlines()
    }
    for rid, want in expected.items():
        got = by_id[rid]
        for field in ("site", "url", "text", "rating", "rating_scale", "recommendation", "tags"):
            assert got[field] == want[field], (rid, field)
        for field in ("is_preliminary", "reactions"):
            assert got[field] == want[field], (rid, field)
        assert got["author"]["name"] == want["author"]["name"]
        assert got["subject"]["id"] == want["subject"]["id"]
        assert got["published_at"][:10] == want["published_at"][:10]
    bebop_7406 = by_id["7406"]
    assert bebop_7406["helpful_count"] == 1488  # known from the 2018 page, kept
    assert bebop_7406["version_count"] == 1 and bebop_7406["gone_at"] is None
    assert bebop_7406["first_seen_at"] == "2018-12-15T00:00:00.000000Z"
    assert bebop_7406["last_seen_at"] > bebop_7406["first_seen_at"]
    assert list(bebop_7406)[:7] == [
        "site",
        "review_id",
        "url",
        "subject",
        "author",
        "published_at",
        "text",
    ]
    assert by_id["25239"]["author_former_names"] == ["kajia"]
    assert by_id["293082"]["version_count"] == 2


def test_export_csv_site_and_since_filters(bebop: Path):
    done = hoard("export", "--format", "csv", "--site", "myanimelist", "--db", str(bebop))
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(table) == 24
    row = next(r for r in table if r["review_id"] == "25239")
    assert (row["author_name"], row["subject_id"], row["rating"]) == ("kekekeKaj", "1", "9")
    assert json.loads(row["author_former_names"]) == ["kajia"]
    none = hoard("export", "--site", "letterboxd", "--db", str(bebop))
    assert none.returncode == 0 and none.stdout == ""
    future = hoard("export", "--since", "2999-01-01", "--db", str(bebop))
    assert future.returncode == 0 and future.stdout == ""
    since = hoard("export", "--since", "2019-01-01", "--db", str(bebop))
    assert len(since.stdout.splitlines()) == 20  # the 2022 page's reviews were seen since
    bad = hoard("export", "--since", "last week", "--db", str(bebop))
    assert bad.returncode == 2
    assert "--since 'last week' is not an ISO 8601 date" in bad.stderr


def test_errors_are_one_line_with_what_to_do(tmp_path: Path, mal_fixtures: Path):
    missing = tmp_path / "none.db"
    for args in (("stats",), ("export",), ("reparse",), ("serve",)):
        done = hoard(*args, "--db", str(missing))
        assert done.returncode == 2
        assert done.stderr == (
            f"hoard: no archive at {missing}; fill one with `hoard import` or `hoard crawl`\n"
        )
    assert not missing.exists()
    mobile = hoard(
        "import",
        str(mal_fixtures / "mobile-anime-1535-main-2024-05.html"),
        str(mal_fixtures / "manga-121496-reviews-excerpt-2026-07.html"),
        "--url",
        "https://myanimelist.net/manga/121496/Solo_Leveling/reviews",
        "--db",
        str(tmp_path / "a.db"),
    )
    assert mobile.returncode == 1
    assert "mobile layout" in mobile.stderr and "mobile-anime-1535" in mobile.stderr
    assert mobile.stdout.startswith("imported 1 page: 2 reviews new")
    unknown = hoard("import", str(mal_fixtures / f"{NEW}.html"), "--url", "https://example.com/")
    assert unknown.returncode == 2 and "unknown site" in unknown.stderr


def test_import_honours_hoard_db(tmp_path: Path, mal_fixtures: Path):
    db = tmp_path / "env.db"
    env = {**os.environ, "HOARD_DB": str(db)}
    page = mal_fixtures / "manga-121496-reviews-excerpt-2026-07.html"
    url = "https://myanimelist.net/manga/121496/Solo_Leveling/reviews"
    done = hoard("import", str(page), "--url", url, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"-> {db}\n")
    assert rows(db, "SELECT subject_type, subject_id, count(*) FROM reviews") == [
        ("manga", "121496", 2)
    ]


@pytest.mark.parametrize(
    "content", [b"not an archive, just words\n" * 50, b"SQLite format 3\x00" + b"\x00" * 90]
)
def test_a_db_that_is_not_an_archive_is_one_line_exit_2(
    tmp_path: Path, mal_fixtures: Path, content: bytes
) -> None:
    """A --db that is not SQLite, or an SQLite file cut short, is one line naming the file and
    what to check, for every command that writes: never a traceback, never written."""
    db = tmp_path / "bad.db"
    db.write_bytes(content)
    page = str(mal_fixtures / "anime-1-reviews-2022-10.html")
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    for args in (
        ["import", page, "--url", url, "--db", str(db)],
        ["reparse", "--db", str(db)],
        ["crawl", "mal", "--anime", "1", "--db", str(db), "--base-url", "http://127.0.0.1:9"],
    ):
        done = hoard(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(f"hoard: cannot open {db} as an archive ("), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert db.read_bytes() == content


def test_options_never_silently_match_nothing(bebop: Path, tmp_path: Path, mal_fixtures: Path):
    by_key = hoard("export", "--db", str(bebop), "--site", "myanimelist").stdout.splitlines()
    by_alias = hoard("export", "--db", str(bebop), "--site", "mal").stdout.splitlines()
    assert by_alias == by_key and len(by_key) > 20
    for command in ("export", "reparse"):
        bogus = hoard(command, "--db", str(bebop), "--site", "bogus")
        assert bogus.returncode == 2
        assert bogus.stderr.startswith("hoard: unknown site 'bogus'; known sites: ")
    # A time with a zone offset is that moment, not the same clock time in UTC.
    last = max(json.loads(line)["last_seen_at"] for line in by_key)
    moment = last[:19]
    later_here = hoard("export", "--db", str(bebop), "--since", moment + "-05:00").stdout
    same_utc = hoard("export", "--db", str(bebop), "--since", moment + "+00:00").stdout
    assert same_utc.strip() and not later_here.strip()
    # One missing file does not stop the others being kept.
    db = tmp_path / "a.db"
    page = str(mal_fixtures / "anime-1-reviews-2022-10.html")
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    done = hoard("import", str(tmp_path / "missing.html"), page, "--url", url, "--db", str(db))
    assert done.returncode == 1
    assert "missing.html: cannot read the file" in done.stderr
    assert "imported 1 page: 20 reviews new" in done.stdout


def test_csv_is_safe_to_open_in_a_spreadsheet() -> None:
    from reviewhoard.hoard.commands.export import spreadsheet_safe

    row = ["=HYPERLINK(\"http://x\")", "+1", "-2 stars", "@SUM(A1)", "\tx", "plain", True, False,
           7, None]  # fmt: skip
    assert spreadsheet_safe(row) == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2 stars", "'@SUM(A1)", "'\tx", "plain", "true",
        "false", 7, None,
    ]  # fmt: skip


def test_csv_export_writes_booleans_as_json_does(bebop: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(hoard("export", "--db", str(bebop), "--format",
                                                 "csv").stdout)))  # fmt: skip
    assert rows and {r["is_preliminary"] for r in rows} <= {"true", "false"}
    assert "true" in {r["is_preliminary"] for r in rows} | {r["is_spoiler"] for r in rows}


def test_a_sqlite_file_that_is_not_an_archive_is_one_line(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.commit()
    for args in (("stats",), ("export",), ("export", "--format", "csv")):
        done = hoard(*args, "--db", str(other))
        assert (args, done.returncode, done.stdout) == (args, 2, "")
        assert done.stderr == (
            f"hoard: {other} is a SQLite file but not a reviewhoard archive (it has no reviews, "
            "crawls and pages tables); pass the archive's path with --db\n"
        )
