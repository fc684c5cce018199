"""Real Trustpilot pages mutated at random: correct reviews or one PageError, nothing else.

Edits land anywhere in the page or inside its `__NEXT_DATA__` (where nearly all that matters
is): cuts, deletions, duplications, junk bytes, JSON punctuation.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.errors import PageError
from sites.trustpilot import parser
from tests.conftest import fixtures_dir

URL = "https://www.trustpilot.com/review/eventnet.de"
_SCRIPT = re.compile(rb'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', re.S)


@st.composite
def mutated(draw: st.DrawFn, body: bytes, span: tuple[int, int]) -> bytes:
    """A real page with a few random edits, most of them inside `span` (the JSON)."""
    for _ in range(draw(st.integers(1, 3))):
        if not body:
            break
        low, high = span if draw(st.booleans()) else (0, len(body))
        where = draw(st.integers(min(low, len(body) - 1), min(high, len(body)) - 1))
        size = draw(st.integers(1, 400))
        action = draw(st.sampled_from(["cut", "delete", "duplicate", "insert", "junk"]))
        if action == "cut":
            body = body[:where]
        elif action == "delete":
            body = body[:where] + body[where + size :]
        elif action == "duplicate":
            body = body[:where] + body[where : where + size] * 2 + body[where + size :]
        elif action == "insert":
            body = body[:where] + draw(st.binary(min_size=1, max_size=40)) + body[where:]
        else:
            junk = draw(st.sampled_from([b'"', b",", b"}", b"{", b"null", b"</script>", b"\\"]))
            body = body[:where] + junk + body[where:]
    return body


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
    @given(mutated(original, match.span(1)))
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
