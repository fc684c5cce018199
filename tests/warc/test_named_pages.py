"""`hoard import PAGE...` and `hoard extract PAGE...` without --url: each saved page is read at
the address it names for itself, so pages of many titles and sites go in one command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.warc.helpers import hoard, rows

PAGES = {
    "myanimelist/anime-1-reviews-2022-10.html": ("myanimelist", 20),
    "myanimelist/anime-44511-reviews-2021-old-empty.html": ("myanimelist", 0),
    "letterboxd/film-oppenheimer-2023-reviews-2026-07.html": ("letterboxd", 12),
    "goodreads/book-14476341-reviews-2025-04.html": ("goodreads", 30),
    "trustpilot/review-eventnet.de-2024-07.html": ("trustpilot", 20),
}


def test_a_folder_of_pages_of_many_sites_imports_in_one_command(fixtures: Path, tmp_path: Path):
    db = tmp_path / "archive.db"
    paths = [str(fixtures / name) for name in PAGES]
    done = hoard("import", *paths, "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    summary = json.loads(done.stdout)
    assert (summary["pages"], summary["failed_pages"]) == (5, 0)
    assert summary["reviews_new"] == sum(n for _, n in PAGES.values())
    per_site = dict(rows(db, "SELECT site, count(*) FROM reviews GROUP BY site"))
    assert per_site == {"myanimelist": 20, "letterboxd": 12, "goodreads": 30, "trustpilot": 20}
    pages = dict(rows(db, "SELECT url, site FROM pages"))
    assert pages == {
        "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews": "myanimelist",
        "https://myanimelist.net/anime/44511/Chainsaw_Man/reviews": "myanimelist",
        "https://letterboxd.com/film/oppenheimer-2023/reviews/": "letterboxd",
        "https://www.goodreads.com/book/show/14476341-the-great-gatsby/reviews": "goodreads",
        "https://www.trustpilot.com/review/eventnet.de": "trustpilot",
    }
    subjects = rows(
        db, "SELECT DISTINCT subject_type, subject_id FROM reviews WHERE site = ?", "myanimelist"
    )
    assert subjects == [("anime", "1")]


def test_a_page_that_names_nothing_asks_for_url_in_one_line(fixtures: Path, tmp_path: Path):
    db = tmp_path / "archive.db"
    excerpt = fixtures / "myanimelist" / "manga-121496-reviews-excerpt-2026-07.html"
    steam = fixtures / "steam" / "app-620-reviews-aggregate-2019.json"
    stranger = tmp_path / "stranger.html"
    stranger.write_bytes(b'<html><head><link rel="canonical" href="https://example.org/r/1">')
    good = fixtures / "myanimelist" / "anime-1-reviews-2022-10.html"
    done = hoard("import", str(excerpt), str(steam), str(stranger), str(good), "--db", str(db))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"hoard: {excerpt}: names no address of its own (no canonical link, og:url or "
        '"saved from url=" comment); pass --url URL',
        f"hoard: {steam}: names no address of its own (no canonical link, og:url or "
        '"saved from url=" comment); pass --url URL',
        f"hoard: {stranger}: names https://example.org/r/1, which no known site serves; pass "
        "--site SITE (for a mirror) or --url URL",
    ]
    assert done.stdout.startswith("imported 1 page: 20 reviews new")
    assert rows(db, "SELECT count(*) FROM reviews") == [(20,)]
    again = hoard(
        "import",
        str(excerpt),
        "--url",
        "https://myanimelist.net/manga/121496/Solo_Leveling/reviews",
        "--db",
        str(db),
    )
    assert again.returncode == 0, again.stderr
    assert rows(db, "SELECT count(*) FROM reviews WHERE subject_id = '121496'") == [(2,)]


def test_site_option_reads_a_page_that_names_a_mirror(fixtures: Path, tmp_path: Path):
    body = (fixtures / "myanimelist" / "anime-1-reviews-2022-10.html").read_bytes()
    mirrored = tmp_path / "mirror.html"
    mirrored.write_bytes(
        b"<!-- saved from url=(0041)http://mirror.example/anime/1/x/reviews -->\n"
        + body.replace(b'<link rel="canonical"', b'<link rel="x"').replace(b"og:url", b"og:x")
    )
    db = tmp_path / "archive.db"
    done = hoard("import", str(mirrored), "--site", "mal", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert rows(db, "SELECT url, site FROM pages") == [
        ("http://mirror.example/anime/1/x/reviews", "myanimelist")
    ]
    assert rows(db, "SELECT count(*), min(subject_id) FROM reviews") == [(20, "1")]


def test_extract_without_url_reads_each_page_at_its_own_address(fixtures: Path, tmp_path: Path):
    mal = fixtures / "myanimelist" / "anime-1-reviews-2018-12-old.html"
    letterboxd = fixtures / "letterboxd" / "film-oppenheimer-2023-reviews-rated5-p1-2026-07.html"
    nothing = fixtures / "myanimelist" / "manga-121496-reviews-excerpt-2026-07.html"
    done = hoard("extract", str(mal), str(nothing), str(letterboxd))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"hoard: {nothing}: names no address of its own (no canonical link, og:url or "
        '"saved from url=" comment); pass --url URL'
    ]
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(g["site"], g["subject"]["id"]) for g in got[:1]] == [("myanimelist", "1")]
    assert [g["site"] for g in got].count("myanimelist") == 20
    assert [g["site"] for g in got].count("letterboxd") == 12
    expected = (fixtures / "letterboxd" / (letterboxd.stem + ".expected.jsonl")).read_text("utf-8")
    want = [json.loads(line) for line in expected.splitlines()]
    mine = [g for g in got if g["site"] == "letterboxd"]
    assert [(g["review_id"], g["text"], g["rating"]) for g in mine] == [
        (w["review_id"], w["text"], w["rating"]) for w in want
    ]
