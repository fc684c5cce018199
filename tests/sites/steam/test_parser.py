"""The Steam parser and feeds: the four answer shapes, paging by cursor, each field rule, the site
declaration and bad input.

The saved answers are compared with their `.expected.jsonl` by `tests/sites/test_saved_pages.py`.
No capture of the new API (`GetAppReviews`) exists, so its pages are built here from the saved
review objects, as the API sends them: `{"response": {"query_summary", "reviews", "cursor"}}`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewhoard.items import Author, Review
from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import parse_page, site_for_url
from reviewhoard.sites.site import Feed
from reviewhoard.sites.steam import SITE, check_review, parser
from reviewhoard.sites.steam.feeds import (
    GET_APP_REVIEWS,
    STORE_APPREVIEWS,
    make_feeds,
    reviews_url,
)
from tests.conftest import fixtures_dir

PORTAL2 = "app-620-reviews-aggregate-2019.json"
H1Z1 = "app-439700-reviews-aggregate-2019.json"
STORE_620 = "https://store.steampowered.com/appreviews/620?json=1"
API_620 = (
    "https://api.steampowered.com/IUserReviewsService/GetAppReviews/v1/?appid=620&filter=1"
    "&languages[0]=all&purchase_type=1&filter_offtopic_activity=0&num_per_page=100&cursor=*"
)
CURSOR = "AoJ4+/mH1PQCd7nJ8wI="
"""A cursor as Steam writes them: base64 with `+`, `/` and `=`."""
CURSOR_PARAM = "AoJ4%2B%2FmH1PQCd7nJ8wI%3D"


def saved(name: str) -> bytes:
    """A saved Steam answer, as captured."""
    return (fixtures_dir() / "steam" / name).read_bytes()


def review_objects(name: str = PORTAL2) -> list[dict[str, Any]]:
    """The raw review objects of a saved merge, in the order the parser reads them."""
    data = json.loads(saved(name))
    objects = list(data["reviews"].values())
    objects.sort(key=lambda r: (r["timestamp_created"], int(r["recommendationid"])), reverse=True)
    return objects


def api_page(reviews: list[dict[str, Any]] | None, cursor: str | None = CURSOR) -> bytes:
    """A GetAppReviews answer (the new API) holding `reviews` (None: the key is left out)."""
    response: dict[str, Any] = {}
    if reviews is not None:
        response["reviews"] = reviews
    if cursor is not None:
        response["cursor"] = cursor
    return json.dumps({"response": response}).encode("utf-8")


def store_page(reviews: list[dict[str, Any]], cursor: str = CURSOR, success: int = 1) -> bytes:
    """An answer of the retired store endpoint (`appreviews/ID?json=1`)."""
    return json.dumps(
        {
            "success": success,
            "query_summary": {"num_reviews": len(reviews)},
            "reviews": reviews,
            "cursor": cursor,
        }
    ).encode("utf-8")


def ids(body: bytes, url: str = API_620) -> list[str]:
    return [r.review_id for r in parser.parse(body, url).reviews]


# --- saved answers: kind, paging, counts -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "count"),
    [
        (PORTAL2, "merged", 190),
        (H1Z1, "merged", 101),
        ("appreviews-1245620-summary-2026-09.json", "appreviews", 0),
        ("appreviews-2130-summary-2026-09.json", "appreviews", 0),
        ("appreviews-233150-summary-2026-09.json", "appreviews", 0),
        ("appreviews-999999999-summary-2026-09.json", "appreviews", 0),
    ],
)
def test_saved_answers_kind_and_next_page(name: str, kind: str, count: int) -> None:
    url = SITE.saved_pages[name]
    parsed = parser.parse(saved(name), url)
    assert (parsed.kind, parsed.next_url) == (kind, None)
    assert len(parsed.reviews) == parsed.block_count == count


def test_first_review_of_portal_2_every_field() -> None:
    review = parser.parse(saved(PORTAL2), STORE_620).reviews[0]
    assert review.to_dict() == {
        "site": "steam",
        "review_id": "49374427",
        "url": "https://steamcommunity.com/profiles/76561198050495772/recommended/620/",
        "subject": {
            "type": "game",
            "id": "620",
            "title": None,
            "url": "https://store.steampowered.com/app/620/",
        },
        "author": {
            "name": "76561198050495772",
            "url": "https://steamcommunity.com/profiles/76561198050495772/",
        },
        "published_at": "2019-03-05T13:20:45Z",
        "text": "Every person should play Portal series, highly recommended.",
        "rating": None,
        "rating_scale": None,
        "recommendation": "recommended",
        "tags": [],
        "is_spoiler": None,
        "is_preliminary": False,
        "progress": None,
        "reactions": {"helpful": 1, "funny": 0},
        "helpful_count": 1,
        "sub_scores": None,
        "language": "english",
        "playtime_at_review": None,
        "playtime_forever": 2052,
        "received_for_free": False,
        "written_during_early_access": False,
        "steam_purchase": True,
        "timestamp_updated": "2019-03-05T13:20:45Z",
        "comment_count": 0,
        "reply": None,
    }


def test_edited_free_review_not_recommended() -> None:
    reviews = {r.review_id: r for r in parser.parse(saved(PORTAL2), STORE_620).reviews}
    free = reviews["48813975"]
    assert free.tags == ["received_for_free"]
    assert free.extra["received_for_free"] is True
    assert (free.published_at, free.extra["timestamp_updated"]) == (
        "2019-02-07T04:08:06Z",
        "2019-02-07T04:42:38Z",
    )
    h1z1 = {r.review_id: r for r in parser.parse(saved(H1Z1), STORE_620).reviews}
    negative = h1z1["32280891"]
    assert negative.recommendation == "not_recommended"
    assert negative.reactions == {"helpful": 68, "funny": 5}
    assert negative.extra["comment_count"] == 3
    assert negative.subject.id == "620"  # the URL names the game when the merge does not


def test_merge_by_id_is_ordered_newest_first_then_by_id() -> None:
    objects = review_objects()[:3]
    for review in objects:
        review["timestamp_created"] = 1_600_000_000
    objects[0]["recommendationid"], objects[2]["recommendationid"] = "5", "700"
    objects.append(dict(objects[1], recommendationid="9", timestamp_created=1_700_000_000))
    merged = {r["recommendationid"]: r for r in objects}
    body = json.dumps({"reviews": merged, "query_summary": {}}).encode()
    assert ids(body, STORE_620) == ["9", objects[1]["recommendationid"], "700", "5"]


def test_merge_as_list_keeps_its_order_and_names_its_game() -> None:
    objects = review_objects()[:4]
    objects.reverse()
    body = json.dumps({"appid": 400, "reviews": objects}).encode()
    parsed = parser.parse(body, STORE_620)
    assert [r.review_id for r in parsed.reviews] == [o["recommendationid"] for o in objects]
    assert {r.subject.id for r in parsed.reviews} == {"400"}
    assert (parsed.reviews[0].url or "").endswith("/recommended/400/")
    assert (parsed.kind, parsed.next_url, parsed.block_count) == ("merged", None, 4)


@pytest.mark.parametrize(
    ("url", "app_id"),
    [
        ("https://store.steampowered.com/appreviews/620?json=1", "620"),
        (API_620, "620"),
        ("https://api.steampowered.com/IUserReviewsService/GetAppReviews/v1/?appid=70", "70"),
        ("https://store.steampowered.com/app/4000/Garrys_Mod/", "4000"),
        ("https://steamcommunity.com/app/730/reviews/", "730"),
    ],
)
def test_app_id_from_the_url(url: str, app_id: str) -> None:
    parsed = parser.parse(api_page(review_objects()[:1], cursor="*"), url)
    assert parsed.reviews[0].subject.id == app_id
    assert parsed.reviews[0].subject.url == f"https://store.steampowered.com/app/{app_id}/"


def test_no_app_id_anywhere_is_refused() -> None:
    url = "https://example.com/reviews.json"
    with pytest.raises(PageError) as caught:
        parser.parse(api_page(review_objects()[:1]), url)
    assert caught.value.reason.startswith("no app id")
    assert caught.value.where == url


def test_no_app_id_is_no_problem_without_reviews() -> None:
    parsed = parser.parse(api_page(None), "https://example.com/reviews.json")
    assert (parsed.reviews, parsed.block_count, parsed.next_url) == ([], 0, None)


# --- the new API and paging by cursor --------------------------------------------------------


def test_new_api_page_gives_the_next_cursor_url_encoded() -> None:
    objects = review_objects()[:100]
    parsed = parser.parse(api_page(objects), API_620)
    assert parsed.kind == "getappreviews"
    assert len(parsed.reviews) == parsed.block_count == 100
    assert [r.review_id for r in parsed.reviews] == [o["recommendationid"] for o in objects]
    assert parsed.next_url == API_620.replace("cursor=*", f"cursor={CURSOR_PARAM}")
    assert parsed.next_url == reviews_url("620", CURSOR)


def test_the_cursor_sent_is_read_from_the_url() -> None:
    objects = review_objects()
    second_url = reviews_url("620", CURSOR)
    following = "AoJ4z+9/zPQCfJnJ8wI="
    parsed = parser.parse(api_page(objects[100:], cursor=following), second_url)
    assert parsed.next_url == reviews_url("620", following)
    assert "cursor=AoJ4z%2B9%2FzPQCfJnJ8wI%3D" in (parsed.next_url or "")
    assert [r.review_id for r in parsed.reviews] == [o["recommendationid"] for o in objects[100:]]


def test_a_repeated_cursor_ends_the_walk() -> None:
    parsed = parser.parse(api_page(review_objects()[:2], cursor=CURSOR), reviews_url("620", CURSOR))
    assert len(parsed.reviews) == 2
    assert parsed.next_url is None


def test_a_raw_plus_in_the_url_is_the_cursors_own() -> None:
    raw = API_620.replace("cursor=*", f"cursor={CURSOR}")
    assert parser.parse(api_page(review_objects()[:1], cursor=CURSOR), raw).next_url is None


def test_a_url_without_cursor_was_the_first_page() -> None:
    url = "https://api.steampowered.com/IUserReviewsService/GetAppReviews/v1/?appid=620"
    assert parser.parse(api_page(review_objects()[:1]), url).next_url == (
        f"{url}&cursor={CURSOR_PARAM}"
    )
    assert parser.parse(api_page(review_objects()[:1], cursor="*"), url).next_url is None


@pytest.mark.parametrize(
    "body",
    [
        api_page(None),
        api_page([]),
        api_page(None, cursor=None),
        b'{"response": {}}',
        b'{"response": {"query_summary": {"num_reviews": 0}, "cursor": "AoJ4+/mH1PQCd7nJ8wI="}}',
    ],
    ids=["no-reviews-key", "empty-list", "no-cursor", "empty-response", "summary-only"],
)
def test_after_the_last_page(body: bytes) -> None:
    parsed = parser.parse(body, reviews_url("620", CURSOR))
    assert (parsed.reviews, parsed.block_count, parsed.next_url, parsed.kind) == (
        [],
        0,
        None,
        "getappreviews",
    )
    assert parsed.past_end  # the feed's end, not a layout change


def test_an_empty_page_pointing_further_is_not_the_end() -> None:
    """No reviews but a new cursor: not how the API ends a walk (the crawl should look)."""
    parsed = parser.parse(api_page([], cursor="AoJ4z+9/zPQCfJnJ8wI="), reviews_url("620", CURSOR))
    assert (parsed.reviews, parsed.block_count, parsed.next_url) == ([], 0, None)
    assert not parsed.past_end


def test_saved_summaries_and_merges_past_end() -> None:
    summary = "appreviews-999999999-summary-2026-09.json"
    assert parser.parse(saved(summary), SITE.saved_pages[summary]).past_end
    assert not parser.parse(saved(PORTAL2), STORE_620).past_end
    assert not parser.parse(b'{"reviews": {}}', STORE_620).past_end


def test_old_store_page_pages_the_same_way() -> None:
    url = reviews_url("620", endpoint=STORE_APPREVIEWS)
    parsed = parser.parse(store_page(review_objects()[:3]), url)
    assert parsed.kind == "appreviews"
    assert len(parsed.reviews) == 3
    assert parsed.next_url == url.replace("cursor=*", f"cursor={CURSOR_PARAM}")
    assert parsed.next_url == reviews_url("620", CURSOR, endpoint=STORE_APPREVIEWS)


def test_page_with_reviews_but_no_cursor_is_refused() -> None:
    with pytest.raises(PageError) as caught:
        parser.parse(api_page(review_objects()[:1], cursor=None), API_620)
    assert caught.value.reason.startswith("the page has reviews but no cursor")


def test_site_next_page_is_the_parsers() -> None:
    feed = make_feeds({"app": ["620"]})[0]
    parsed = parser.parse(api_page(review_objects()[:1]), feed.start_url)
    assert SITE.next_page(feed, parsed, 1) == parsed.next_url == reviews_url("620", CURSOR)


# --- field rules -------------------------------------------------------------------------------


def one(change: dict[str, Any], author: dict[str, Any] | None = None) -> Any:
    """The first Portal 2 review with fields changed, read from a new-API page."""
    review = copy.deepcopy(review_objects()[0])
    review.update(change)
    if author is not None:
        review["author"].update(author)
    return parser.parse(api_page([review]), API_620).reviews[0]


def test_tags_in_order() -> None:
    both = one({"received_for_free": True, "written_during_early_access": True})
    assert both.tags == ["received_for_free", "written_during_early_access"]
    early = one({"written_during_early_access": True})
    assert (early.tags, early.extra["written_during_early_access"]) == (
        ["written_during_early_access"],
        True,
    )


def test_new_api_extras() -> None:
    review = one(
        {
            "language": "schinese",
            "developer_response": "Thanks! [b]Fixed[/b] in 1.2.\n\n\nEnjoy.",
            "timestamp_dev_responded": 1_700_000_000,
            "comment_count": "4",
            "steam_purchase": False,
        },
        author={"playtime_at_review": 125, "playtime_forever": 3000},
    )
    assert review.extra == {
        "language": "schinese",
        "playtime_at_review": 125,
        "playtime_forever": 3000,
        "received_for_free": False,
        "written_during_early_access": False,
        "steam_purchase": False,
        "timestamp_updated": "2019-03-05T13:20:45Z",
        "comment_count": 4,
        "reply": {
            "text": "Thanks! Fixed in 1.2.\n\nEnjoy.",
            "published_at": "2023-11-14T22:13:20Z",
        },
    }


def test_reply_without_date_or_text() -> None:
    assert one({"developer_response": "Noted."}).extra["reply"] == {
        "text": "Noted.",
        "published_at": None,
    }
    assert one({"developer_response": "", "timestamp_dev_responded": 0}).extra["reply"] is None


def test_missing_optional_fields_are_null() -> None:
    review = copy.deepcopy(review_objects()[0])
    for name in ("language", "timestamp_updated", "comment_count", "steam_purchase"):
        del review[name]
    del review["author"]["playtime_forever"]
    got = parser.parse(api_page([review]), API_620).reviews[0]
    assert got.extra["language"] is None
    assert got.extra["timestamp_updated"] is None
    assert got.extra["comment_count"] is None
    assert got.extra["steam_purchase"] is None
    assert got.extra["playtime_forever"] is None
    assert got.text == "Every person should play Portal series, highly recommended."


def test_ids_and_numbers_written_as_other_types() -> None:
    review = one(
        {"recommendationid": 123, "timestamp_created": "1551792045", "votes_up": "7"},
        author={"steamid": 76561198050495772},
    )
    assert (review.review_id, review.author.name) == ("123", "76561198050495772")
    assert (review.published_at, review.helpful_count, review.reactions) == (
        "2019-03-05T13:20:45Z",
        7,
        {"helpful": 7, "funny": 0},
    )


def test_bbcode_text_through_the_parser() -> None:
    review = one({"review": "[h1]Verdict[/h1]\n[list]\n[*]Great [b]puzzles[/b]\n[/list]\n[9/10]"})
    assert review.text == "Verdict\nGreat puzzles\n[9/10]"


def test_check_review() -> None:
    review = one({})
    assert check_review(review) == []
    review.reactions = {"helpful": 1}
    assert check_review(review) == [
        "reactions {'helpful': 1} are not Steam's helpful and funny votes"
    ]
    review.reactions = {"helpful": 2, "funny": 0}
    assert check_review(review) == ["helpful_count differs from the helpful votes"]


# --- feeds and the site ------------------------------------------------------------------------


def test_make_feeds() -> None:
    feeds = make_feeds({"app": ["620", " 0439700 "]})
    assert feeds == [
        Feed(
            key="app:620",
            start_url=API_620,
            subject_type="game",
            subject_id="620",
            walkable=True,
            expects_reviews=False,
        ),
        Feed(
            key="app:439700",
            start_url=API_620.replace("appid=620", "appid=439700"),
            subject_type="game",
            subject_id="439700",
            walkable=True,
            expects_reviews=False,
        ),
    ]
    assert make_feeds({}) == []


@pytest.mark.parametrize("value", ["portal", "", "-620", "0", "6.20", "620x", "12345678901", "٦٢٠"])
def test_make_feeds_refuses_what_is_no_app_id(value: str) -> None:
    with pytest.raises(ValueError, match="app ids are numbers") as caught:
        make_feeds({"app": ["620", value]})
    assert repr(value) in str(caught.value)


def test_reviews_url_for_either_endpoint() -> None:
    assert reviews_url(620) == API_620
    assert reviews_url(620, endpoint=GET_APP_REVIEWS).startswith(GET_APP_REVIEWS + "?appid=620&")
    assert reviews_url(620, CURSOR, endpoint=STORE_APPREVIEWS) == (
        "https://store.steampowered.com/appreviews/620?json=1&filter=recent&language=all"
        f"&purchase_type=all&filter_offtopic_activity=0&num_per_page=100&cursor={CURSOR_PARAM}"
    )


def test_site_declaration() -> None:
    assert (SITE.key, SITE.name, SITE.subject_types) == ("steam", "Steam", ("game",))
    assert SITE.base_url == "https://api.steampowered.com"  # what a crawl requests
    assert make_feeds({"app": ["620"]})[0].start_url.startswith(SITE.base_url + "/")
    assert [o.name for o in SITE.options] == ["app"]
    assert SITE.policy.min_delay == 1.5
    assert SITE.bench_baseline == "json"
    assert SITE.parser is parser and parser.PARSER_VERSION == "1"
    names = {p.name for p in (fixtures_dir() / "steam").iterdir() if p.suffix in (".json", ".html")}
    assert set(SITE.saved_pages) == names
    for url in (STORE_620, API_620, "https://steamcommunity.com/app/620/homecontent/"):
        assert site_for_url(url) is SITE


def test_import_of_a_merge_by_the_store_url() -> None:
    """`hoard import app-620.json --url https://store.steampowered.com/appreviews/620?json=1`."""
    parsed = parse_page(saved(PORTAL2), STORE_620)
    assert len(parsed.reviews) == 190
    assert parsed.reviews[-1].review_id == "2380670"
    assert parsed.reviews[-1].published_at == "2011-04-21T11:11:19Z"


# --- bad input -------------------------------------------------------------------------------


def refused(body: bytes, url: str = API_620) -> str:
    with pytest.raises(PageError) as caught:
        parser.parse(body, url)
    assert caught.value.where == url
    assert str(caught.value).startswith(f"{url}: ")
    assert "\n" not in caught.value.reason
    return caught.value.reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty answer (0 bytes): fetch it again"),
        (b" \r\n\t", "empty answer (4 bytes): fetch it again"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not JSON (no `{` at the start)"),
        (b"Too Many Requests", "not JSON (no `{` at the start)"),
        (b'{"success": 2}', "Steam answered success 2 (not 1)"),
        (b'{"success": 2, "reviews": []}', "Steam answered success 2 (not 1)"),
        (b'{"success": true, "reviews": []}', "Steam answered success True (not 1)"),
        (b'{"success": 1, "query_summary": {}}', "Steam's answer has success 1 but no reviews"),
        (b'{"response": {"reviews": {"1": 2}}}', "review 1: not a review object"),
        (b'{"response": {"reviews": 5}}', "the answer's reviews are a int, not a list"),
        (b"[1, 2, 3]", "not a Steam reviews answer (JSON list, not an object)"),
        (b'{"items": []}', "not a Steam reviews answer (no `response`, `success` or `reviews`"),
        (b'{"response": ', "the answer is not valid JSON"),
        (b'{"reviews": "\xff\xfe"}', "the answer is not valid JSON"),
        (b"[" * 100_000, "the answer is not valid JSON"),
        (b'{"appid": 620, "reviews": [{}]}', "a review has no recommendationid (None)"),
        (b'{"appid": "x", "reviews": [{}]}', "the answer's appid 'x' is not an app id"),
    ],
    ids=[
        "empty",
        "whitespace",
        "binary",
        "plain-text",
        "success-2",
        "success-2-with-reviews",
        "success-true",
        "no-reviews",
        "reviews-not-objects",
        "reviews-not-list",
        "json-list",
        "other-json",
        "cut-json",
        "bad-utf8",
        "deep-nesting",
        "empty-review",
        "bad-appid",
    ],
)
def test_not_a_reviews_answer(body: bytes, reason: str) -> None:
    assert refused(body).startswith(reason)


@pytest.mark.parametrize("name", [PORTAL2, "appreviews-2130-summary-2026-09.json"])
def test_answer_cut_in_half(name: str) -> None:
    body = saved(name)
    reason = refused(body[: len(body) // 2], SITE.saved_pages[name])
    assert reason.startswith("the answer is not valid JSON (")
    assert reason.endswith("cut short or corrupted; fetch it again")


@pytest.mark.parametrize(
    "name",
    ["community-app-331290-reviews-2016-11.html", "community-app-498680-reviews-2018-11.html"],
)
def test_retired_community_pages_are_refused(name: str) -> None:
    url = SITE.saved_pages[name]
    assert url.startswith("https://steamcommunity.com/app/") and "/homecontent/" in url
    assert refused(saved(name), url) == parser.COMMUNITY_REASON
    # Recognised by the page too, whatever URL it is given.
    assert refused(saved(name), STORE_620) == parser.COMMUNITY_REASON
    assert "dates have no year" in parser.COMMUNITY_REASON


def test_html_where_json_is_expected() -> None:
    page = b"<!DOCTYPE html><html><head><title>Steam</title></head><body>Error</body></html>"
    assert refused(page).startswith("an HTML page where Steam's JSON reviews answer was expected")
    assert refused(b"\xef\xbb\xbf\n  <html><body>Sorry!</body></html>").startswith("an HTML page")


def test_challenge_page() -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>'
        b"</body></html>"
    )
    assert refused(page).startswith('a challenge page ("Just a moment...")')


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"recommendationid": None}, "a review has no recommendationid (None)"),
        ({"recommendationid": "12a"}, "a review has no recommendationid ('12a')"),
        ({"author": None}, "review 49374427: no author;"),
        ({"author": {"playtime_forever": 3}}, "review 49374427: no author steamid;"),
        ({"timestamp_created": None}, "review 49374427: timestamp_created None is not a Unix"),
        ({"timestamp_created": -5}, "review 49374427: timestamp_created -5 is not a Unix time"),
        ({"timestamp_created": 10**15}, "review 49374427: timestamp_created 1000000000000000"),
        ({"timestamp_updated": "yesterday"}, "review 49374427: timestamp_updated 'yesterday'"),
        ({"voted_up": 1}, "review 49374427: no voted_up verdict;"),
        ({"votes_up": None}, "review 49374427: no votes_up;"),
        ({"votes_funny": -1}, "review 49374427: votes_funny -1 is not a count"),
        ({"review": None}, "review 49374427: no review text;"),
        ({"received_for_free": "no"}, "review 49374427: received_for_free 'no' is not true or"),
        ({"comment_count": 1.5}, "review 49374427: comment_count 1.5 is not a count"),
        ({"language": 3}, "review 49374427: language 3 is not a name"),
        ({"developer_response": 3}, "review 49374427: developer_response is not text"),
    ],
)
def test_review_missing_a_part_fails_the_page(change: dict[str, Any], reason: str) -> None:
    objects = review_objects()[:3]
    broken = copy.deepcopy(objects[0])
    broken.update(change)
    assert refused(api_page([objects[1], broken, objects[2]])).startswith(reason)


def test_merge_whose_key_is_not_its_review() -> None:
    review = review_objects()[0]
    body = json.dumps({"reviews": {"1": review}}).encode()
    assert refused(body, STORE_620) == "review 1: holds review 49374427; nothing was kept"


def test_lone_surrogates_in_escaped_json_become_replacement_characters() -> None:
    review = copy.deepcopy(review_objects()[0])
    review["review"] = "broken \ud83d half, whole \U0001f48e"
    review["developer_response"] = "reply \udc00"
    body = json.dumps({"response": {"reviews": [review], "cursor": "*"}}).encode()
    assert b"\\ud83d" in body and b"\\ud83d\\udc8e" in body
    got = parser.parse(body, API_620).reviews[0]
    assert got.text == "broken \ufffd half, whole \U0001f48e"
    assert got.extra["reply"]["text"] == "reply \ufffd"
    got.text.encode("utf-8")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"recommendationid": "1" * 30}, "a review has no recommendationid"),
        ({"recommendationid": "١٢٣"}, "a review has no recommendationid"),
        ({"votes_up": "9" * 5000}, "review 49374427: votes_up"),
        ({"language": "engl\ud800sh"}, "review 49374427: language"),
    ],
    ids=["long-id", "arabic-digits", "long-count", "surrogate-language"],
)
def test_numbers_and_names_that_are_no_steam_values(change: dict[str, Any], reason: str) -> None:
    review = copy.deepcopy(review_objects()[0])
    review.update(change)
    assert refused(api_page([review])).startswith(reason)


@pytest.mark.parametrize("cursor", ["Ao\ud800J4=", "Ao\nJ4=", "Aö"])
def test_a_cursor_that_is_no_steam_cursor(cursor: str) -> None:
    reason = refused(api_page(review_objects()[:1], cursor=cursor))
    assert reason.startswith("the answer's cursor") and reason.endswith("is not a Steam cursor")


def test_careful_reading_gives_the_same_reviews() -> None:
    """Reviews whose numbers come as strings (and ids as numbers) go through the careful path,
    which must give what the usual one gives."""
    objects = review_objects(H1Z1)
    usual = [r.to_dict() for r in parser.parse(api_page(objects), API_620).reviews]
    odd = copy.deepcopy(objects)
    for review in odd:
        review["recommendationid"] = int(review["recommendationid"])
        review["votes_up"] = str(review["votes_up"])
        review["timestamp_created"] = str(review["timestamp_created"])
        review["author"]["steamid"] = int(review["author"]["steamid"])
    careful = [r.to_dict() for r in parser.parse(api_page(odd), API_620).reviews]
    assert len(careful) == 101
    assert careful == usual


def test_review_fields_in_the_order_the_parser_fills_them() -> None:
    """The parser fills `Review` positionally (for speed): its field order must be this one."""
    assert [f.name for f in dataclasses.fields(Review)] == [
        "site",
        "review_id",
        "url",
        "subject",
        "author",
        "published_at",
        "text",
        "rating",
        "rating_scale",
        "recommendation",
        "tags",
        "is_spoiler",
        "is_preliminary",
        "progress",
        "reactions",
        "helpful_count",
        "sub_scores",
        "extra",
    ]
    assert [f.name for f in dataclasses.fields(Author)] == ["name", "url"]
    review = parser.parse(saved(PORTAL2), STORE_620).reviews[0]
    expected_author = Author(
        "76561198050495772", "https://steamcommunity.com/profiles/76561198050495772/"
    )
    assert review.author == expected_author
    assert hash(review.author) == hash(expected_author)
    assert isinstance(review, Review) and review == Review(**{
        f.name: getattr(review, f.name) for f in dataclasses.fields(Review)
    })  # fmt: skip


def test_json_with_a_byte_order_mark_and_whitespace() -> None:
    body = b"\xef\xbb\xbf\n  " + api_page(review_objects()[:2])
    assert ids(body) == [o["recommendationid"] for o in review_objects()[:2]]
    assert ids(b" " * 600 + api_page(review_objects()[:1])) == ["49374427"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.integers(1, 253402300798))
def test_dates_are_utc_iso(timestamp: int) -> None:
    review = one({"timestamp_created": timestamp, "timestamp_updated": timestamp + 1})
    assert review.published_at == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
    assert review.extra["timestamp_updated"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp + 1)
    )


def test_date_edges() -> None:
    assert one({"timestamp_created": 1}).published_at == "1970-01-01T00:00:01Z"
    assert one({"timestamp_created": 253402300799}).published_at == "9999-12-31T23:59:59Z"
    assert one({"timestamp_created": 1551830399}).published_at == "2019-03-05T23:59:59Z"
