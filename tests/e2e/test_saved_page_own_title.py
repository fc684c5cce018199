"""A saved page is filed under its own title: `hoard import` and `hoard extract` with a `--url`
of another title (or another site) than the page names for itself refuse the page with one
line, store nothing and rename nothing; a `--url` that agrees with the page is read as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.update_support import run_hoard as hoard

ROOT = Path(__file__).resolve().parents[2]
BEBOP = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
MONSTER = "https://myanimelist.net/anime/19/Monster/reviews"


@pytest.fixture
def page(mal_fixtures: Path) -> Path:
    return mal_fixtures / "anime-1-reviews-2022-10.html"


def refusal(page: Path, url: str, subject: str) -> str:
    return (
        f"hoard: {page}: the page names {BEBOP} (anime 1), but --url {url} would file its "
        f"reviews under {subject}; pass --url {BEBOP}, or leave --url out\n"
    )


def test_import_refuses_a_page_given_another_titles_url(tmp_path: Path, page: Path) -> None:
    db = tmp_path / "a.db"
    first = hoard("import", str(page), "--db", str(db), cwd=tmp_path)  # Bebop, at its own URL
    assert first.returncode == 0, first.stderr
    wrong = hoard("import", str(page), "--url", MONSTER, "--db", str(db), cwd=tmp_path)
    assert wrong.returncode == 1
    assert wrong.stderr == refusal(page, MONSTER, "anime 19")
    assert wrong.stdout.startswith("imported 0 pages: 0 reviews new, 0 updated, 0 unchanged")
    conn = sqlite3.connect(db)
    subjects = conn.execute("SELECT DISTINCT subject_type, subject_id FROM reviews").fetchall()
    assert subjects == [("anime", "1")]  # nothing moved to Monster
    titles = conn.execute("SELECT subject_id, title FROM subjects").fetchall()
    assert titles == [("1", "Cowboy Bebop")]  # nothing renamed
    assert conn.execute("SELECT count(*) FROM pages").fetchone() == (1,)


def test_import_reads_a_page_at_a_url_that_agrees_with_it(tmp_path: Path, page: Path) -> None:
    db = tmp_path / "a.db"
    done = hoard("import", str(page), "--url", f"{BEBOP}?p=1", "--db", str(db), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported 1 page: 20 reviews new")


def test_extract_refuses_it_too(tmp_path: Path, page: Path) -> None:
    wrong = hoard("extract", str(page), "--url", MONSTER, cwd=tmp_path)
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr == refusal(page, MONSTER, "anime 19")
    other_site = "https://letterboxd.com/film/monster/reviews/"
    elsewhere = hoard("extract", str(page), "--url", other_site, cwd=tmp_path)
    assert (elsewhere.returncode, elsewhere.stdout) == (1, "")
    # Another site's parser cannot read it at all: refused by that parser, in one line.
    assert elsewhere.stderr.startswith(f"hoard: {page}: no review list (div.viewing-list)")
    assert elsewhere.stderr.count("\n") == 1
