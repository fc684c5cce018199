"""`hoard export --format warc|wacz` as a real process: valid for warcio and py-wacz, Common
Crawl's renamed headers, revisits for pages fetched again, and an export that imports back into
an empty archive as the same reviews and versions."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.warc.helpers import (
    BEBOP_URL,
    NEW,
    OLD,
    WarcBuilder,
    content,
    hoard,
    rows,
    run,
    warcio_check,
    warcio_index,
)

MONSTER_URL = "https://myanimelist.net/manga/1/Monster/reviews"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path) -> Path:
    """Cowboy Bebop's 2018 page, its 2022 page (edits and a rename), the 2022 page fetched again
    later (a revisit), and Monster's page as a server sent it (gzipped, chunked)."""
    folder = tmp_path_factory.mktemp("export")
    db = folder / "archive.db"
    old = hoard(
        "import",
        str(mal_fixtures / f"{OLD}.html"),
        "--url",
        BEBOP_URL,
        "--fetched-at",
        "2018-12-15T00:00:00Z",
        "--db",
        str(db),
    )
    assert old.returncode == 0, old.stderr
    for moment in ("2022-10-15T00:00:00Z", "2023-03-01T12:30:00.250000Z"):
        new = hoard(
            "import",
            str(mal_fixtures / f"{NEW}.html"),
            "--url",
            BEBOP_URL,
            "--fetched-at",
            moment,
            "--db",
            str(db),
        )
        assert new.returncode == 0, new.stderr
    warc = WarcBuilder(folder / "monster.warc.gz")
    warc.response(
        MONSTER_URL,
        (mal_fixtures / "manga-1-reviews-2026-01.html").read_bytes(),
        "2026-01-10T00:00:00Z",
        encoding="gzip",
        chunk=True,
    )
    done = hoard("import", str(warc.close()), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


def records(path: Path) -> list[tuple[str, str | None, str | None, dict[str, str], bytes]]:
    """(type, target URI, date, HTTP headers, payload) of every record, read by warcio."""
    out = []
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            http = dict(record.http_headers.headers) if record.http_headers else {}
            out.append(
                (
                    record.rec_type,
                    record.rec_headers.get_header("WARC-Target-URI"),
                    record.rec_headers.get_header("WARC-Date"),
                    http,
                    record.content_stream().read(),
                )
            )
    return out


def test_export_is_valid_for_warcio_and_holds_every_page(
    archive: Path, tmp_path: Path, mal_fixtures: Path
):
    out = tmp_path / "pages.warc.gz"
    done = hoard("export", "--format", "warc", "-o", str(out), "--db", str(archive))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"exported 3 pages (1 fetched again, as revisits) -> {out} "
        f"({out.stat().st_size / 1e6:,.1f} MB)\n"
    )
    check = warcio_check(out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 4  # warcinfo and three responses
    index = [json.loads(line) for line in warcio_index(out)]
    assert [(r["warc-type"], r.get("warc-target-uri"), r.get("warc-date")) for r in index[1:]] == [
        ("response", BEBOP_URL, "2018-12-15T00:00:00Z"),
        ("response", BEBOP_URL, "2022-10-15T00:00:00Z"),
        ("revisit", BEBOP_URL, "2023-03-01T12:30:00.250000Z"),
        ("response", MONSTER_URL, "2026-01-10T00:00:00Z"),
    ]
    assert index[0]["warc-type"] == "warcinfo"
    got = records(out)
    info = got[0][4].decode("utf-8")
    assert "software: reviewhoard/" in info and "isPartOf: archive.db" in info
    assert "format: WARC File Format 1.1" in info
    assert got[1][4] == (mal_fixtures / f"{OLD}.html").read_bytes()
    monster = got[4]
    assert monster[3]["X-Crawler-Transfer-Encoding"] == "chunked"
    assert "Content-Encoding" not in monster[3] and "X-Crawler-Content-Encoding" not in monster[3]
    assert monster[3]["Content-Length"] == str(len(monster[4]))
    assert monster[4] == (mal_fixtures / "manga-1-reviews-2026-01.html").read_bytes()
    assert got[2][3]["X-Hoard-Imported-From"] == f"{NEW}.html"
    assert got[2][3]["Content-Type"] == "text/html"
    with gzip.open(out, "rb") as whole:
        assert whole.read(9) == b"WARC/1.1\r"


def test_the_export_imports_back_as_the_same_archive(archive: Path, tmp_path: Path):
    out = tmp_path / "pages.warc.gz"
    assert hoard("export", "--format", "warc", "-o", str(out), "--db", str(archive)).returncode == 0
    again = tmp_path / "again.db"
    done = hoard("import", str(out), "--db", str(again))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(
        "read 5 records from 1 WARC file (0.2 MB): 4 pages archived (1 from revisits); skipped "
        "1 warcinfo"
    )
    before, after = content(archive), content(again)
    for table in before:
        assert after[table] == before[table], table
    # Bebop: 24 reviews, two of them edited (a rename is not an edit); Monster: 20.
    assert (len(before["reviews"]), len(before["versions"])) == (44, 46)
    renamed = [a for a in before["authors"] if a[3] != "[]"]
    assert len(renamed) == 2
    times = "SELECT review_id, first_seen_at, last_seen_at FROM reviews ORDER BY review_id"
    assert rows(again, times) == rows(archive, times)
    pages = "SELECT url, fetched_at, last_fetched_at, fetch_count, headers FROM pages ORDER BY url"
    assert [p[:4] for p in rows(again, pages)] == [
        (BEBOP_URL, "2018-12-15T00:00:00.000000Z", "2018-12-15T00:00:00.000000Z", 1),
        (BEBOP_URL, "2022-10-15T00:00:00.000000Z", "2023-03-01T12:30:00.250000Z", 2),
        (MONSTER_URL, "2026-01-10T00:00:00.000000Z", "2026-01-10T00:00:00.000000Z", 1),
    ]
    # Headers come back under their own names (the renamed originals restored).
    assert json.loads(rows(again, pages)[2][4]) == json.loads(rows(archive, pages)[2][4])


def test_site_since_and_an_uncompressed_file(archive: Path, tmp_path: Path):
    out = tmp_path / "recent.warc"
    done = hoard(
        "export",
        "--format",
        "warc",
        "--site",
        "mal",
        "--since",
        "2023-01-01",
        "-o",
        str(out),
        "--db",
        str(archive),
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"WARC/1.1\r\n")
    assert warcio_check(out).returncode == 0
    index = [json.loads(line) for line in warcio_index(out)]
    assert [(r["warc-type"], r.get("warc-date")) for r in index] == [
        ("warcinfo", index[0]["warc-date"]),
        ("response", "2022-10-15T00:00:00Z"),
        ("revisit", "2023-03-01T12:30:00.250000Z"),
        ("response", "2026-01-10T00:00:00Z"),
    ]
    none = hoard(
        "export",
        "--format",
        "warc",
        "--site",
        "steam",
        "-o",
        str(tmp_path / "n.warc.gz"),
        "--db",
        str(archive),
    )
    assert none.returncode == 0
    assert [json.loads(x)["warc-type"] for x in warcio_index(tmp_path / "n.warc.gz")] == [
        "warcinfo"
    ]


def test_wacz_export_validates_with_py_wacz(archive: Path, tmp_path: Path):
    out = tmp_path / "pages.wacz"
    done = hoard("export", "--format", "wacz", "-o", str(out), "--db", str(archive))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("exported 3 pages (1 fetched again, as revisits) -> ")
    valid = run("wacz", "validate", "-f", str(out))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "Validation succeeded" in valid.stdout
    with zipfile.ZipFile(out) as packed:
        names = set(packed.namelist())
        assert {"archive/pages.warc.gz", "indexes/index.cdx.gz", "pages/pages.jsonl"} <= names
        listed = [json.loads(line) for line in packed.read("pages/pages.jsonl").splitlines()]
    assert [(p.get("url"), p.get("ts")) for p in listed[1:]] == [
        (BEBOP_URL, "2018-12-15T00:00:00Z"),
        (BEBOP_URL, "2022-10-15T00:00:00Z"),
        (MONSTER_URL, "2026-01-10T00:00:00Z"),
    ]


def test_usage_errors_are_one_line(archive: Path, tmp_path: Path):
    no_file = hoard("export", "--format", "warc", "--db", str(archive))
    assert (no_file.returncode, no_file.stderr) == (
        2,
        "hoard: --format warc writes a file: give -o FILE.warc.gz\n",
    )
    nowhere = hoard(
        "export", "--format", "wacz", "-o", str(tmp_path / "no" / "x.wacz"), "--db", str(archive)
    )
    assert nowhere.returncode == 2
    assert (
        nowhere.stderr
        == f"hoard: -o {tmp_path / 'no' / 'x.wacz'}: no folder {tmp_path / 'no'}; create it first\n"
    )
    assert not list(tmp_path.iterdir())


def test_reviews_can_go_to_a_file_too(archive: Path, tmp_path: Path):
    out = tmp_path / "reviews.jsonl"
    done = hoard("export", "-o", str(out), "--db", str(archive))
    assert (done.returncode, done.stdout) == (0, "")
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == 44
    assert {r["subject"]["type"] for r in lines} == {"anime", "manga"}
