"""`hoard serve` as a real process on a loopback port, asked over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviewhoard.archive.metadata import QUERIES
from reviewhoard.archive.store import Archive
from tests.archive.test_store import NEW, NEW_AT, OLD, OLD_AT, page_entries
from tests.serving import hoard_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path) -> Iterator[str]:
    """The Bebop archive (2018 then 2022) served by `hoard serve`; yields the database URL."""
    db = tmp_path_factory.mktemp("served") / "archive.db"
    with Archive(db) as archive:
        archive.write(page_entries(mal_fixtures, OLD, OLD_AT))
        archive.write(page_entries(mal_fixtures, NEW, NEW_AT))
    with hoard_serve(db) as url:
        yield url


def get(url: str, **params: Any) -> Any:
    response = httpx.get(url, params=params, timeout=10)
    assert response.status_code == 200, (url, response.text[:300])
    return response.json()


def test_reviews_table_as_json(served: str):
    data = get(f"{served}/reviews.json", _shape="objects", _size=100)
    assert len(data["rows"]) == 24
    row = next(r for r in data["rows"] if r["review_id"] == "25239")
    assert (row["site"], row["subject_id"], row["author_name"], row["rating"]) == (
        "myanimelist",
        "1",
        "kekekeKaj",
        9,
    )
    assert row["version_count"] == 1 and row["gone_at"] is None


def test_full_text_search(served: str):
    hits = get(f"{served}/reviews.json", _search="kekekeKaj", _shape="array")
    assert [h["review_id"] for h in hits] == ["25239"]
    words = get(f"{served}/reviews.json", _search="bounty hunters", _shape="array")
    assert "7406" in {h["review_id"] for h in words}
    assert all("bounty" in h["text"].lower() for h in words)


def test_facets_and_metadata(served: str):
    data = get(f"{served}/reviews.json", _size=1)
    facets = data["facet_results"]
    facets = facets.get("results", facets)
    assert {"site", "recommendation", "rating"} <= set(facets)
    sites = facets["site"]["results"]
    assert [(s["value"], s["count"]) for s in sites] == [("myanimelist", 24)]
    meta = get(served.rsplit("/", 1)[0] + "/-/metadata.json")
    assert meta["title"] == "reviewhoard archive"
    reviews = meta["databases"]["archive"]["tables"]["reviews"]
    assert reviews["fts_table"] == "reviews_fts"
    assert "content_hash" in reviews["columns"]


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_canned_query_answers_with_rows(served: str, name: str):
    # A title is asked for by its site, type and the site's id: Cowboy Bebop.
    title = {"site": "myanimelist", "subject_type": "anime", "subject_id": "1"}
    given = {"q": "bebop", **title}
    params = {p: given[p] for p in QUERIES[name].get("params", [])}
    rows = get(f"{served}/{name}.json", _shape="array", **params)
    assert rows, name
    if name == "edited_reviews":
        assert sorted({r["review_id"] for r in rows}) == ["144725", "293082"]
        assert [r["versions"] for r in rows] == [2, 2]
    if name == "rating_histogram":
        assert sum(r["reviews"] for r in rows) == 24
    if name == "reviews_of_title":
        assert len(rows) == 24 and {(r["subject_type"], r["subject_id"]) for r in rows} == {
            ("anime", "1")
        }
        dates = [r["published_at"] for r in rows]
        assert dates == sorted(dates, reverse=True)
