"""`hoard import FILE.warc[.gz]` as a real process on WARC files written by warcio: what is
archived, what is skipped and counted, revisits, decoding, and damage of every kind."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from reviewhoard.sites import site_named
from tests.warc.helpers import BEBOP_URL, NEW, OLD, WarcBuilder, hoard, rows

FULL_TEXT_URL = "https://letterboxd.com/s/full-text/viewing:1401220676/"
LIST_URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/"


def summary(done) -> dict:
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_responses_are_archived_as_if_just_fetched_and_the_rest_counted(
    fixtures: Path, tmp_path: Path
):
    mal = fixtures / "myanimelist"
    warc = WarcBuilder(tmp_path / "mixed.warc.gz")
    info = warc.writer.create_warcinfo_record("mixed.warc.gz", {"software": "test"})
    warc._write(info)
    warc.request(BEBOP_URL, "2022-10-15T08:00:00Z")
    # Sent gzipped and chunked, as a server would: the archive keeps the decoded page.
    warc.response(
        BEBOP_URL,
        (mal / f"{NEW}.html").read_bytes(),
        "2022-10-15T08:00:00Z",
        encoding="gzip",
        chunk=True,
    )
    warc.metadata("metadata://example/crawl.log", b"log lines")
    warc.response(
        "https://myanimelist.net/images/logo.png",
        b"\x89PNG...",
        "2022-10-15T08:00:01Z",
        content_type="image/png",
    )
    warc.response("https://example.com/reviews", b"<html></html>", "2022-10-15T08:00:02Z")
    warc.response(
        "https://myanimelist.net/anime/2/x/reviews",
        b"gone",
        "2022-10-15T08:00:03Z",
        status="404 Not Found",
    )
    letterboxd = fixtures / "letterboxd"
    warc.response(
        LIST_URL,
        (letterboxd / "film-oppenheimer-2023-reviews-2026-07.html").read_bytes(),
        "2026-07-01T00:00:00Z",
        encoding="zstd",  # what Scrapy asks for too: warcio does not undo it
    )
    warc.response(
        FULL_TEXT_URL,
        (letterboxd / "full-text-viewing-1401220676.html").read_bytes(),
        "2026-07-01T00:00:05Z",
    )
    warc.response(
        "https://myanimelist.net/anime/1535/Death_Note",
        (mal / "mobile-anime-1535-main-2024-05.html").read_bytes(),
        "2024-05-01T00:00:00Z",
    )
    path = warc.close()
    db = tmp_path / "archive.db"
    done = hoard("import", str(path), "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    got = summary(done)
    assert got["warc"] == {
        "files": 1,
        "records": 10,
        "bytes": path.stat().st_size,
        "archived": 3,
        "revisits": 0,
        "damaged": 0,
        "skipped": {
            "request": 1,
            "other": 2,
            "no_site": 1,
            "not_page": 1,
            "status": 1,
            "refused": 1,
        },
    }
    assert (got["pages"], got["reviews_new"], got["pages_stored"]) == (3, 32, 3)
    pages = rows(
        db,
        "SELECT url, final_url, status, fetched_at, headers, site, body_size "
        "FROM pages ORDER BY id",
    )
    bebop = pages[0]
    assert bebop[:4] == (BEBOP_URL, BEBOP_URL, 200, "2022-10-15T08:00:00.000000Z")
    assert json.loads(bebop[4]) == {
        "content-type": "text/html; charset=utf-8",
        "transfer-encoding": "chunked",
    }
    assert bebop[5:] == ("myanimelist", (mal / f"{NEW}.html").stat().st_size)
    assert [p[0] for p in pages[1:]] == [LIST_URL, FULL_TEXT_URL]
    list_page = (letterboxd / "film-oppenheimer-2023-reviews-2026-07.html").read_bytes()
    assert pages[1][6] == len(list_page)  # zstd undone
    assert "content-encoding" not in json.loads(pages[1][4])
    first_seen = rows(db, "SELECT DISTINCT first_seen_at FROM reviews WHERE site = 'myanimelist'")
    assert first_seen == [("2022-10-15T08:00:00.000000Z",)]
    # The full-text page completed the review the list page showed cut, as a crawl would.
    page = (letterboxd / "full-text-viewing-1401220676.html").read_bytes()
    [whole] = site_named("letterboxd").read_follow_up(page, FULL_TEXT_URL)
    text = rows(db, "SELECT text, version_count FROM reviews WHERE review_id = '1401220676'")
    assert text == [(whole.text, 1)]
    assert whole.text.startswith("This is way better than I remember it being.\n\nOppenheimer")


def test_a_revisit_is_the_earlier_payload_seen_again(mal_fixtures: Path, tmp_path: Path):
    body = (mal_fixtures / f"{NEW}.html").read_bytes()
    first = WarcBuilder(tmp_path / "a.warc.gz")
    original = first.response(BEBOP_URL, body, "2022-10-15T08:00:00Z")
    first.revisit(original, BEBOP_URL, "2023-01-01T00:00:00Z")
    first.close()
    # A revisit found by its payload digest alone, in the next file of the same import.
    second = WarcBuilder(tmp_path / "b.warc.gz")
    second.revisit(original, BEBOP_URL, "2024-02-02T00:00:00Z", by_id=False)
    unknown = WarcBuilder(tmp_path / "elsewhere.warc.gz")
    stray = unknown.response(BEBOP_URL, b"<html>another payload</html>", "2020-01-01T00:00:00Z")
    second.revisit(stray, BEBOP_URL, "2024-03-03T00:00:00Z")
    second.close()
    unknown.close()
    db = tmp_path / "archive.db"
    done = hoard(
        "import",
        str(tmp_path / "a.warc.gz"),
        str(tmp_path / "b.warc.gz"),
        "--db",
        str(db),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    got = summary(done)
    assert (got["warc"]["archived"], got["warc"]["revisits"]) == (3, 2)
    assert got["warc"]["skipped"] == {"revisit_unknown": 1}
    assert (got["reviews_new"], got["reviews_unchanged"]) == (20, 40)
    assert rows(db, "SELECT fetched_at, last_fetched_at, fetch_count, status FROM pages") == [
        ("2022-10-15T08:00:00.000000Z", "2024-02-02T00:00:00.000000Z", 3, 200)
    ]
    seen = rows(db, "SELECT DISTINCT first_seen_at, last_seen_at, version_count FROM reviews")
    assert seen == [("2022-10-15T08:00:00.000000Z", "2024-02-02T00:00:00.000000Z", 1)]


def _three_pages(mal_fixtures: Path, path: Path, gzip: bool) -> WarcBuilder:
    warc = WarcBuilder(path, gzip=gzip)
    warc.response(BEBOP_URL, (mal_fixtures / f"{OLD}.html").read_bytes(), "2018-12-15T00:00:00Z")
    warc.response(
        "https://myanimelist.net/manga/1/Monster/reviews",
        (mal_fixtures / "manga-1-reviews-2026-01.html").read_bytes(),
        "2026-01-10T00:00:00Z",
    )
    warc.response(
        "https://myanimelist.net/anime/32995/Yuri_on_Ice/reviews",
        (mal_fixtures / "anime-32995-reviews-2017-old.html").read_bytes(),
        "2017-06-01T00:00:00Z",
    )
    warc.close()
    return warc


def _import_one_line(path: Path, db: Path) -> tuple[list[str], dict]:
    done = hoard("import", str(path), "--db", str(db), "--json")
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    return done.stderr.splitlines(), json.loads(done.stdout)


def test_a_record_with_a_bad_digest_is_skipped_and_the_rest_read(mal_fixtures, tmp_path):
    path = tmp_path / "plain.warc"
    warc = _three_pages(mal_fixtures, path, gzip=False)
    data = path.read_bytes()
    at = data.index(b"Monster", warc.offsets[1] + 2000)
    path.write_bytes(data[:at] + b"Mxnster" + data[at + 7 :])
    lines, got = _import_one_line(path, tmp_path / "archive.db")
    assert lines == [
        f"hoard: {path}: damaged record at offset {warc.offsets[1]}: bad block and payload "
        "digests; skipped"
    ]
    assert (got["pages"], got["warc"]["damaged"], got["reviews_new"]) == (2, 1, 40)
    subjects = rows(tmp_path / "archive.db", "SELECT DISTINCT subject_id FROM reviews")
    assert sorted(subjects) == [("1",), ("32995",)]


def test_a_gzip_member_cut_short_is_skipped_and_the_next_record_read(mal_fixtures, tmp_path):
    path = tmp_path / "cut.warc.gz"
    warc = _three_pages(mal_fixtures, path, gzip=True)
    data = path.read_bytes()
    start, end = warc.offsets[1], warc.offsets[2]
    path.write_bytes(data[:start] + data[start : (start + end) // 2] + data[end:])
    lines, got = _import_one_line(path, tmp_path / "archive.db")
    assert lines == [
        f"hoard: {path}: damaged record at offset {start}: corrupt or cut-short gzip member; "
        "skipped"
    ]
    assert (got["pages"], got["warc"]["records"], got["reviews_new"]) == (2, 3, 40)


def test_a_file_cut_short_keeps_every_whole_record(mal_fixtures, tmp_path):
    path = tmp_path / "truncated.warc.gz"
    warc = _three_pages(mal_fixtures, path, gzip=True)
    data = path.read_bytes()
    path.write_bytes(data[: warc.offsets[2] + 5000])
    lines, got = _import_one_line(path, tmp_path / "archive.db")
    [line] = lines
    said = re.fullmatch(
        rf"hoard: {re.escape(str(path))}: damaged record at offset (\d+): cut short "
        r"\(([\d,]+) bytes missing\); skipped",
        line,
    )
    assert said is not None, line
    assert int(said.group(1)) == warc.offsets[2]
    assert int(said.group(2).replace(",", "")) > 100_000
    assert (got["pages"], got["reviews_new"]) == (2, 40)


@pytest.mark.parametrize(
    ("name", "data", "line"),
    [
        ("empty.warc.gz", b"", "empty file (0 bytes), not a WARC file"),
        ("noise.warc", bytes(range(256)) * 40, "not a WARC file (it starts with: "),
        (
            "notes.warc.gz",
            gzip.compress(b"just some text\n" * 50, mtime=0),
            "not a WARC file (gzip, but holds no WARC record)",
        ),
        (
            "page.warc",
            b"<!DOCTYPE html><html><body>hi</body></html>",
            "not a WARC file (a page? import it without the .warc name)",
        ),
    ],
    ids=["empty", "noise", "gzipped-text", "page"],
)
def test_files_that_are_not_warcs_get_one_line(tmp_path: Path, name: str, data: bytes, line: str):
    path = tmp_path / name
    path.write_bytes(data)
    lines, got = _import_one_line(path, tmp_path / "archive.db")
    assert len(lines) == 1
    assert lines[0].startswith(f"hoard: {path}: {line}")
    assert (got["pages"], got["failed_pages"]) == (0, 1)


def test_a_warc_gzipped_whole_and_pages_beside_warcs(mal_fixtures: Path, tmp_path: Path):
    plain = tmp_path / "plain.warc"
    _three_pages(mal_fixtures, plain, gzip=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    page = mal_fixtures / "manga-1706-main-2024-05.html"
    db = tmp_path / "archive.db"
    done = hoard("import", str(page), str(whole), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"read 3 records from 1 WARC file ({whole.stat().st_size / 1e6:,.1f} MB): 3 pages "
        "archived (0 from revisits)",
        f"imported 4 pages: 63 reviews new, 0 updated, 0 unchanged, 0 rejected -> {db}",
    ]
