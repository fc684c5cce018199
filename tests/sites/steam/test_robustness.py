"""Bad bytes to the Steam parser: whole reviews or one clear PageError, nothing else.

Real saved answers (a merge, a summary, and a new-API page made of saved review objects) are
mutated at random with Hypothesis: cut, bytes deleted, duplicated, junk inserted, JSON tokens
swapped in. The parser may read a mutated answer (JSON often survives an edit) but then every
review is whole; otherwise it raises PageError naming the URL, never another exception.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.errors import PageError
from sites.steam import SITE, parser
from sites.steam.feeds import reviews_url
from tests.conftest import fixtures_dir

API_URL = reviews_url("439700", "AoJ4+/mH1PQCd7nJ8wI=")
JUNK_TOKENS = [
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"true",
    b"-1",
    b"1e999",
    b"NaN",
    b'"\\u0000"',
    b'"\\ud800"',
    b"\\",
    b"[h1]",
    b"\xff",
]


def saved(name: str) -> bytes:
    return (fixtures_dir() / "steam" / name).read_bytes()


def new_api_page() -> bytes:
    """A GetAppReviews page holding twelve saved review objects and a cursor."""
    data = json.loads(saved("app-439700-reviews-aggregate-2019.json"))
    reviews = list(data["reviews"].values())[:12]
    body = {
        "response": {"query_summary": {"num_reviews": 12}, "reviews": reviews, "cursor": "Zz+/="}
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@st.composite
def mutated(draw: st.DrawFn, body: bytes) -> bytes:
    """A real answer with a few random edits."""
    for _ in range(draw(st.integers(1, 4))):
        if not body:
            break
        where = draw(st.integers(0, len(body) - 1))
        size = draw(st.integers(1, 300))
        action = draw(st.sampled_from(["cut", "delete", "duplicate", "insert", "token", "flip"]))
        if action == "cut":
            body = body[:where]
        elif action == "delete":
            body = body[:where] + body[where + size :]
        elif action == "duplicate":
            body = body[:where] + body[where : where + size] * 2 + body[where + size :]
        elif action == "insert":
            body = body[:where] + draw(st.binary(min_size=1, max_size=40)) + body[where:]
        elif action == "token":
            body = body[:where] + draw(st.sampled_from(JUNK_TOKENS)) + body[where:]
        else:
            body = (
                body[:where] + bytes([body[where] ^ draw(st.integers(1, 255))]) + body[where + 1 :]
            )
    return body


def check_page(body: bytes, url: str) -> None:
    try:
        parsed = parser.parse(body, url)
    except PageError as exc:
        assert exc.reason and exc.where == url
        assert "\n" not in exc.reason
        return
    assert parsed.block_count == len(parsed.reviews)
    for review in parsed.reviews:
        data = review.to_dict()
        assert data["review_id"].isdigit()
        assert data["author"]["name"].isdigit()
        assert data["subject"]["id"].isdigit()
        assert data["recommendation"] in ("recommended", "not_recommended")
        assert isinstance(data["text"], str)
        assert len(data["published_at"]) == 20 and data["published_at"].endswith("Z")
        assert set(data["reactions"]) == {"helpful", "funny"}
        assert SITE.check_review(review) == []


CASES = [
    ("merge", "app-439700-reviews-aggregate-2019.json"),
    ("summary", "appreviews-2130-summary-2026-09.json"),
    ("new-api", None),
]


@pytest.mark.parametrize(("label", "name"), CASES, ids=[c[0] for c in CASES])
def test_mutated_answers_raise_only_page_error(label: str, name: str | None) -> None:
    original = new_api_page() if name is None else saved(name)
    url = API_URL if name is None else SITE.saved_pages[name]
    check_page(original, url)  # the unmutated answer reads

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(original))
    def check(body: bytes) -> None:
        check_page(body, url)

    check()


def test_mutated_community_pages_stay_refused() -> None:
    name = "community-app-498680-reviews-2018-11.html"
    original = saved(name)
    url = SITE.saved_pages[name]

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(mutated(original))
    def check(body: bytes) -> None:
        with pytest.raises(PageError) as caught:
            parser.parse(body, url)
        assert caught.value.where == url

    check()
