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

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.steam import SITE, parser
from reviewhoard.sites.steam.feeds import reviews_url
from tests.conftest import fixtures_dir
from tests.sites.mutations import mutated

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
    @given(mutated(original, JUNK_TOKENS, size=300))
    def check(body: bytes) -> None:
        check_page(body, url)

    check()


def test_mutated_community_pages_stay_refused() -> None:
    name = "community-app-498680-reviews-2018-11.html"
    original = saved(name)
    url = SITE.saved_pages[name]

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(mutated(original, JUNK_TOKENS, size=300))
    def check(body: bytes) -> None:
        with pytest.raises(PageError) as caught:
            parser.parse(body, url)
        assert caught.value.where == url

    check()


ODD_VALUES = st.sampled_from(
    [None, "", "x", "123", "-5", "١٢٣", -1, 0, 1, 1.5, 10**30, True, False, [], {}, [1], {"a": 1}]
)
REVIEW_KEYS = [
    "recommendationid",
    "author",
    "language",
    "review",
    "timestamp_created",
    "timestamp_updated",
    "voted_up",
    "votes_up",
    "votes_funny",
    "comment_count",
    "steam_purchase",
    "received_for_free",
    "written_during_early_access",
    "developer_response",
    "timestamp_dev_responded",
]
AUTHOR_KEYS = ["steamid", "playtime_forever", "playtime_at_review"]


@st.composite
def edited_reviews(draw: st.DrawFn) -> list[dict[str, object]]:
    """Saved review objects with parts removed or given values of other types."""
    data = json.loads(saved("app-439700-reviews-aggregate-2019.json"))
    reviews: list[dict[str, object]] = list(data["reviews"].values())[:6]
    for _ in range(draw(st.integers(1, 4))):
        review = reviews[draw(st.integers(0, len(reviews) - 1))]
        target = review
        keys = REVIEW_KEYS
        if draw(st.booleans()) and isinstance(review.get("author"), dict):
            target, keys = review["author"], AUTHOR_KEYS  # type: ignore[assignment]
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(ODD_VALUES)
    return reviews


@settings(max_examples=300, deadline=None, derandomize=True)
@given(edited_reviews())
def test_reviews_with_odd_parts_are_whole_or_refused(reviews: list[dict[str, object]]) -> None:
    body = json.dumps({"response": {"reviews": reviews, "cursor": "Zz+/="}}).encode()
    check_page(body, API_URL)


def test_odd_parts_do_give_both_outcomes() -> None:
    """The edits above reach both outcomes (a test that only ever saw errors would prove little)."""
    outcomes: set[str] = set()

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(edited_reviews())
    def run(reviews: list[dict[str, object]]) -> None:
        body = json.dumps({"response": {"reviews": reviews, "cursor": "Zz+/="}}).encode()
        try:
            parser.parse(body, API_URL)
        except PageError:
            outcomes.add("refused")
            return
        outcomes.add("read")

    run()
    assert outcomes == {"refused", "read"}
