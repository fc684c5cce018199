"""Bodies packed by a parse worker (`archive.packing`, `PageTask(pack=True)`): the archive keeps
exactly what its writer would have packed itself, and never trusts a packing of another body."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.archive.packing import decompress_body, pack_body
from reviewhoard.archive.store import open_archive
from reviewhoard.hoard.parse_pool import PageTask, read_task
from reviewhoard.items import RawPage

SAVED = "anime-1-reviews-2022-10.html"
BEBOP = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
PAGE_COLUMNS = "sha256, url, final_url, status, site, body_size, compression, body"


def page_row(db: Path) -> tuple[Any, ...]:
    conn = sqlite3.connect(db)
    try:
        found = conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages").fetchall()
    finally:
        conn.close()
    assert len(found) == 1
    return tuple(found[0])


def stored(db: Path, page: RawPage) -> tuple[Any, ...]:
    with open_archive(db) as archive:
        archive.write([page])
    return page_row(db)


@pytest.fixture(scope="module")
def body(mal_fixtures: Path) -> bytes:
    return (mal_fixtures / SAVED).read_bytes()


def raw(body: bytes, **extra: Any) -> RawPage:
    return RawPage(BEBOP, BEBOP, 200, {}, body, "2024-01-01T00:00:00Z", "myanimelist", "1", **extra)


def test_a_body_packed_elsewhere_is_stored_as_the_writer_packs_it(body: bytes, tmp_path: Path):
    itself = stored(tmp_path / "itself.db", raw(body))
    packed = stored(tmp_path / "packed.db", raw(body, packed=pack_body(body)))
    assert packed == itself
    sha, *_, size, compression, blob = packed
    assert sha == hashlib.sha256(body).hexdigest()
    assert (size, compression) == (len(body), "zstd")
    assert decompress_body(compression, blob) == body


def test_a_packing_of_another_body_is_never_stored_in_its_place(body: bytes, tmp_path: Path):
    other = body.replace(b"</html>", b"<!-- another capture --></html>")
    row = stored(tmp_path / "archive.db", raw(body, packed=pack_body(other)))
    sha, *_, size, compression, blob = row
    assert sha == hashlib.sha256(body).hexdigest()
    assert size == len(body)
    assert decompress_body(compression, blob) == body


def test_a_worker_packs_only_what_it_was_asked_to_and_read(body: bytes):
    read = read_task(PageTask(body, BEBOP, "mal", pack=True))
    assert read.refused is None and len(read.reviews) == 20
    assert read.packed == pack_body(body)
    assert read_task(PageTask(body, BEBOP, "mal")).packed is None
    refused = read_task(PageTask(b"<html><body>no reviews</body>", BEBOP, "mal", pack=True))
    assert refused.refused is not None and refused.packed is None


def test_a_worker_refuses_a_page_filed_at_another_titles_url(body: bytes):
    elsewhere = "https://myanimelist.net/anime/5/Cowboy_Bebop__Tengoku_no_Tobira/reviews"
    read = read_task(PageTask(body, elsewhere, "mal", pack=True, filed_at_url=True))
    assert read.refused is not None
    assert read.refused.startswith("the page names https://myanimelist.net/anime/1/")
    assert "pass --url https://myanimelist.net/anime/1/" in read.refused
    assert read.packed is None
    # Read at its own address, it is filed there.
    assert read_task(PageTask(body, BEBOP, "mal", filed_at_url=True)).refused is None
    # Without --url given by the user (a reparse, a WARC record), the check is not made.
    assert read_task(PageTask(body, elsewhere, "mal")).refused is None
