"""Mutated pages through the schema.org parser: correct reviews or one PageError, nothing else.

The test pages (`pages/`) with random cuts, deletions, duplications, junk bytes and stray markup
(Hypothesis, derandomized so a run is repeatable).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.schemaorg import parser
from tests.sites.mutations import mutated
from tests.sites.schemaorg.test_parser import PAGE_URLS, PAGES

JUNK = [
    b"<div>",
    b"</div>",
    b"<br>",
    b"&amp;",
    b"<script",
    b"</script>",
    b'"',
    b"{",
    b"}",
    b",",
    b"<!--",
    b"-->",
    b"\\u",
    b"\xff\xfe",
    b"<div itemscope>",
    b'"@id": "#x",',
]


@pytest.mark.parametrize("name", sorted(PAGE_URLS))
def test_mutated_pages_raise_only_page_error(name: str) -> None:
    original = (PAGES / name).read_bytes()
    url = PAGE_URLS[name]

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(original, JUNK))
    def check(body: bytes) -> None:
        try:
            parsed = parser.parse(body, url)
        except PageError as exc:
            assert exc.reason and exc.where == url
            return
        assert parsed.next_url is None and parsed.block_count == len(parsed.reviews)
        assert parsed.kind in ("jsonld", "microdata", "no_reviews")
        ids = set()
        for review in parsed.reviews:
            data = review.to_dict()
            assert data["site"] == "schemaorg"
            assert isinstance(data["review_id"], str) and data["review_id"]
            assert data["review_id"] not in ids
            ids.add(data["review_id"])
            assert data["url"].startswith(("http://", "https://"))
            assert data["text"] is not None or data["rating"] is not None
            if data["rating"] is not None:
                assert math.isfinite(data["rating"]) and data["rating_scale"] is not None
            published = data["published_at"]
            assert published is None or (published[:4].isdigit() and published[4] == "-")

    check()
