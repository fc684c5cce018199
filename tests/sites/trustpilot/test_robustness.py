"""Real Trustpilot pages mutated at random: correct reviews or one PageError, nothing else.

Edits land anywhere in the page or inside its `__NEXT_DATA__` (where nearly all that matters
is): cuts, deletions, duplications, junk bytes, JSON punctuation.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.trustpilot import parser
from tests.conftest import fixtures_dir
from tests.sites.mutations import JSON_JUNK, mutated

URL = "https://www.trustpilot.com/review/eventnet.de"
_SCRIPT = re.compile(rb'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', re.S)


def test_mutated_pages_raise_only_page_error() -> None:
    original = (fixtures_dir() / "trustpilot" / "review-eventnet.de-2024-07.html").read_bytes()
    match = _SCRIPT.search(original)
    assert match is not None
    outcomes: set[str] = set()

    @settings(
        max_examples=500,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(original, JSON_JUNK, edits=3, focus=match.span(1)))
    def check(body: bytes) -> None:
        try:
            parsed = parser.parse(body, URL)
        except PageError as exc:
            assert exc.reason and exc.where == URL
            outcomes.add("error")
            return
        outcomes.add("parsed")
        assert parsed.block_count == len(parsed.reviews)
        for review in parsed.reviews:
            data = review.to_dict()
            assert data["review_id"] and data["author"]["name"]
            assert isinstance(data["text"], str)
            assert 1 <= data["rating"] <= 5
            assert data["published_at"][:4].isdigit()

    check()
    assert outcomes == {"error", "parsed"}
