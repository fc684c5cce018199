"""Real Goodreads pages mutated at random: whole reviews or one PageError, never anything else.

Bytes are cut, deleted, duplicated, flipped or inserted (Hypothesis, derandomized so a run is
repeatable); on the current page most edits land in the `__NEXT_DATA__` JSON, where the parser
reads, or in the cards it counts.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.goodreads import parser
from tests.conftest import fixtures_dir
from tests.sites.mutations import mutated

CURRENT = ("book-14476341-reviews-2025-04.html", parser.KIND)
OLD = ("book-15797938-reviews-fragment-2020-old.html", parser.OLD_KIND)
URLS = {
    CURRENT[0]: "https://www.goodreads.com/book/show/14476341-the-great-gatsby/reviews",
    OLD[0]: (
        "https://www.goodreads.com/book/reviews/15797938-the-dinner"
        "?edition_reviews=true&rating=5&text_only=true"
    ),
}
DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?")
JUNK = [b"<div>", b"</div>", b"<br>", b"&amp;", b"<span", b'"', b"\\", b"{", b"}", b"]", b","]


@pytest.mark.parametrize(("name", "kind"), [CURRENT, OLD], ids=["current", "old-fragment"])
def test_mutated_pages_raise_only_page_error(name: str, kind: str) -> None:
    original = (fixtures_dir() / "goodreads" / name).read_bytes()
    url = URLS[name]
    outcomes: set[str] = set()

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(original, JUNK, focus=(max(0, original.find(b"__NEXT_DATA__")), len(original))))
    def check(body: bytes) -> None:
        try:
            parsed = parser.parse(body, url)
        except PageError as exc:
            assert exc.reason and exc.where == url
            outcomes.add("refused")
            return
        outcomes.add("read")
        assert parsed.kind == kind
        assert parsed.block_count == len(parsed.reviews)
        for review in parsed.reviews:
            data = review.to_dict()
            assert data["site"] == "goodreads" and data["review_id"]
            assert data["url"] is None or data["url"].endswith(f"/review/show/{data['review_id']}")
            assert (
                data["author"]["name"] and data["author"]["name"] == data["author"]["name"].strip()
            )
            assert DATE.fullmatch(data["published_at"])
            assert data["subject"]["type"] == "book" and data["subject"]["id"].isdigit()
            assert data["rating"] is None or data["rating"] in (1, 2, 3, 4, 5)
            assert data["reactions"] is None or (
                set(data["reactions"]) == {"likes", "comments"}
                and all(isinstance(v, int) and v >= 0 for v in data["reactions"].values())
            )
            assert isinstance(data["text"], str)

    check()
    assert outcomes == {"refused", "read"}  # both outcomes met: the mutations did reach the parser
