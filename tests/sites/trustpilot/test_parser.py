"""The Trustpilot parser and feeds: paging, each field rule, the site declaration, bad input.

The saved page (eventnet.de, 20 reviews, 4 replies) is compared with its `.expected.jsonl` by
`tests/sites/test_saved_pages.py`; here its `__NEXT_DATA__` is also edited (a verified review, an
update, likes, a later page...) to give each rule a case the capture does not have.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import parse_page, site_for_url
from reviewhoard.sites.site import Feed
from reviewhoard.sites.trustpilot import SITE, parser
from reviewhoard.sites.trustpilot.feeds import company_name, make_feeds, reviews_url
from tests.conftest import fixtures_dir

NAME = "review-eventnet.de-2024-07.html"
URL = "https://www.trustpilot.com/review/eventnet.de"
_SCRIPT = re.compile(
    rb'(<script id="__NEXT_DATA__" type="application/json">)(.*?)(</script>)', re.S
)


def saved() -> bytes:
    """The saved eventnet.de page, as captured."""
    return (fixtures_dir() / "trustpilot" / NAME).read_bytes()


def next_data(body: bytes) -> dict[str, Any]:
    """The page's `__NEXT_DATA__`, loaded."""
    match = _SCRIPT.search(body)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(2))
    return data


def edited(change: Callable[[dict[str, Any]], None]) -> bytes:
    """The saved page with its `__NEXT_DATA__` changed by `change` (the rest as captured)."""
    body = saved()
    data = next_data(body)
    change(data)
    script = json.dumps(data, ensure_ascii=False).replace("</", "\\u003c/").encode("utf-8")
    return _SCRIPT.sub(lambda m: m.group(1) + script + m.group(3), body, count=1)


def props(data: dict[str, Any]) -> dict[str, Any]:
    page_props: dict[str, Any] = data["props"]["pageProps"]
    return page_props


def first(data: dict[str, Any]) -> dict[str, Any]:
    review: dict[str, Any] = props(data)["reviews"][0]
    return review


def refused(body: bytes, url: str = URL) -> PageError:
    """The one PageError the parser raises for `body`, checked to name the page."""
    with pytest.raises(PageError) as caught:
        parser.parse(body, url)
    assert caught.value.where == url
    assert caught.value.reason
    assert str(caught.value).startswith(f"{url}: ")
    return caught.value


# --- the saved page ---------------------------------------------------------------------------


def test_saved_page_kind_count_and_last_page() -> None:
    parsed = parser.parse(saved(), URL)
    assert (parsed.kind, parsed.block_count, len(parsed.reviews)) == ("company_reviews", 20, 20)
    assert parsed.next_url is None  # totalPages 1
    assert parsed.reviews[0].review_id == "667d00c443645513f3ae5f18"
    assert parsed.reviews[-1].review_id == "65490a193187cef050853d3d"


def test_saved_page_fields_beyond_the_expected_file() -> None:
    review = parser.parse(saved(), URL).reviews[0].to_dict()
    assert review["url"] == "https://www.trustpilot.com/reviews/667d00c443645513f3ae5f18"
    assert review["subject"] == {
        "type": "company",
        "id": "eventnet.de",
        "title": "Eventnet",
        "url": "https://www.trustpilot.com/review/eventnet.de",
    }
    assert review["author"] == {
        "name": "Saskia Herrmann",
        "url": "https://www.trustpilot.com/users/667d00af3a6fe0521e28cf2f",
    }
    assert review["published_at"] == "2024-06-27T08:03:48Z"  # UTC, milliseconds dropped
    assert (review["rating"], review["rating_scale"]) == (5, 5)
    assert (review["reactions"], review["helpful_count"]) == ({"useful": 0}, 0)
    assert (review["is_spoiler"], review["is_preliminary"], review["tags"]) == (None, False, [])
    assert review["title"] == "Immer wieder gerne..."  # "Immer wieder gerne... " stripped
    assert (review["reply"], review["language"], review["updated_at"]) == (None, "de", None)
    assert review["text"].endswith("Gerne wieder! Auf bald!")  # the trailing space is gone


def test_company_reply_and_line_breaks_from_next_data() -> None:
    reviews = {r.review_id: r for r in parser.parse(saved(), URL).reviews}
    replied = [rid for rid, r in reviews.items() if r.extra["reply"] is not None]
    assert replied == [
        "665426cb1631934fecd8dc87",
        "663b609359ffb1461c348a8e",
        "663cf09c78076725ee455e4d",
        "663b387173b1bd1953c659a9",
    ]
    assert reviews["665426cb1631934fecd8dc87"].extra["reply"] == {
        "text": "Vielen lieben Dank für die tolle Bewertung!",
        "published_at": "2024-05-28T12:48:25Z",
    }
    assert reviews["663b609359ffb1461c348a8e"].extra["title"] == "Eventnet ist einer der wenigen…"
    # The JSON-LD copy of this body has no line break; __NEXT_DATA__ keeps it.
    assert reviews["666fe7a10b79c8f7baaaca1c"].text.endswith(
        "unterstützt.\nWir werden sehr gerne auch bei unserer nächsten Veranstaltung mit "
        "Eventnet zusammen arbeiten."
    )


def test_locale_host_gives_the_same_reviews_with_canonical_urls() -> None:
    www = [r.to_dict() for r in parser.parse(saved(), URL).reviews]
    fr_url = "https://fr.trustpilot.com/review/eventnet.de"
    assert site_for_url(fr_url) is SITE
    french = [r.to_dict() for r in parse_page(saved(), fr_url).reviews]
    assert french == www
    assert french[0]["url"].startswith("https://www.trustpilot.com/reviews/")


# --- paging ------------------------------------------------------------------------------------


def _paged(current: int, total: int, name: str = "eventnet.de") -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        props(data)["filters"]["pagination"].update(currentPage=current, totalPages=total)
        props(data)["businessUnit"]["identifyingName"] = name

    return change


@pytest.mark.parametrize(
    ("current", "total", "next_url"),
    [
        (1, 3, "https://www.trustpilot.com/review/eventnet.de?languages=all&sort=recency&page=2"),
        (2, 3, "https://www.trustpilot.com/review/eventnet.de?languages=all&sort=recency&page=3"),
        (3, 3, None),
        (1, 1, None),
    ],
)
def test_next_url_while_page_is_before_total_pages(
    current: int, total: int, next_url: str | None
) -> None:
    parsed = parser.parse(edited(_paged(current, total)), URL + f"?page={current}")
    assert parsed.next_url == next_url
    assert len(parsed.reviews) == 20


def test_company_name_with_a_path() -> None:
    parsed = parser.parse(edited(_paged(4, 9, "calo.app/en")), URL)
    assert (
        parsed.next_url
        == "https://www.trustpilot.com/review/calo.app/en?languages=all&sort=recency&page=5"
    )
    subject = parsed.reviews[0].subject
    assert (subject.id, subject.url) == (
        "calo.app/en",
        "https://www.trustpilot.com/review/calo.app/en",
    )


def test_company_without_reviews() -> None:
    def change(data: dict[str, Any]) -> None:
        props(data)["reviews"] = []
        props(data)["filters"]["pagination"].update(currentPage=1, totalPages=0)

    parsed = parser.parse(edited(change), URL)
    assert (parsed.reviews, parsed.block_count, parsed.next_url) == ([], 0, None)
    assert parsed.kind == "company_reviews"


# --- field rules -------------------------------------------------------------------------------


def test_verified_label_is_the_verified_tag() -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)["labels"]["verification"]["isVerified"] = True
        props(data)["reviews"][1]["labels"] = {"merged": None, "verification": None}

    reviews = parser.parse(edited(change), URL).reviews
    assert [r.tags for r in reviews[:3]] == [["verified"], [], []]


def test_likes_are_the_useful_reaction_and_the_helpful_count() -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)["likes"] = 7

    review = parser.parse(edited(change), URL).reviews[0]
    assert (review.reactions, review.helpful_count) == ({"useful": 7}, 7)


def test_dates_in_utc_and_the_update_time() -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)["dates"]["publishedDate"] = "2024-06-27T10:03:48.123+02:00"
        first(data)["dates"]["updatedDate"] = "2024-07-01T23:59:59.000Z"

    review = parser.parse(edited(change), URL).reviews[0]
    assert review.published_at == "2024-06-27T08:03:48Z"
    assert review.extra["updated_at"] == "2024-07-01T23:59:59Z"


@pytest.mark.parametrize(
    ("given", "published_at"),
    [("2024-06-27", "2024-06-27"), ("2024-06-27T08:03:48", "2024-06-27T08:03:48")],
    ids=["date-only", "no-zone"],
)
def test_no_time_or_zone_is_invented(given: str, published_at: str) -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)["dates"]["publishedDate"] = given

    assert parser.parse(edited(change), URL).reviews[0].published_at == published_at


def test_text_and_names_are_cleaned() -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)["text"] = "  First  line\r\nsecond\tline \n\n\n\nLast â€™90s line  "
        first(data)["title"] = "  Head  line… "
        first(data)["consumer"]["displayName"] = "  Saskia H \n"

    review = parser.parse(edited(change), URL).reviews[0]
    assert review.text == "First line\nsecond line\n\nLast ’90s line"
    assert review.extra["title"] == "Head line…"
    assert review.author.name == "Saskia H"


def test_relevant_reviews_carousel_is_not_extracted() -> None:
    def change(data: dict[str, Any]) -> None:
        extra = dict(first(data), id="aaaaaaaaaaaaaaaaaaaaaaaa", text="from the carousel")
        props(data)["relevantReviews"] = [extra, props(data)["reviews"][1]]

    parsed = parser.parse(edited(change), URL)
    assert parsed.block_count == 20
    assert [r.review_id for r in parsed.reviews] == [
        r.review_id for r in parser.parse(saved(), URL).reviews
    ]
    assert "aaaaaaaaaaaaaaaaaaaaaaaa" not in {r.review_id for r in parsed.reviews}


def test_reply_without_its_message_fails_the_page() -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)["reply"] = {"publishedDate": "2024-05-28T12:48:25.000Z"}

    error = refused(edited(change))
    assert error.reason == (
        "review 667d00c443645513f3ae5f18 has a company reply without its message or "
        "publishedDate; nothing from the page was kept"
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("rating", None, "has no rating from 1 to 5 (None)"),
        ("rating", 6, "has no rating from 1 to 5 (6)"),
        ("rating", True, "has no rating from 1 to 5 (True)"),
        ("likes", "3", "has no usable likes count ('3')"),
        ("text", None, "has no text"),
        ("consumer", {"id": "x", "displayName": "  "}, "has no author (consumer.displayName)"),
        ("dates", {"publishedDate": "yesterday"}, "has no usable publishedDate ('yesterday')"),
        (
            "dates",
            {"publishedDate": "2024-06-27T08:03:48.000Z", "updatedDate": "soon"},
            "has an unreadable updatedDate ('soon')",
        ),
    ],
)
def test_review_missing_a_field_fails_the_page(field: str, value: Any, reason: str) -> None:
    def change(data: dict[str, Any]) -> None:
        first(data)[field] = value

    error = refused(edited(change))
    assert error.reason == (
        f"review 667d00c443645513f3ae5f18 {reason}; nothing from the page was kept"
    )


def test_review_without_an_id_fails_the_page() -> None:
    def change(data: dict[str, Any]) -> None:
        del props(data)["reviews"][3]["id"]

    assert refused(edited(change)).reason.startswith("a review has no usable id (None)")


# --- feeds and the site declaration ------------------------------------------------------------


def test_make_feeds() -> None:
    feeds = make_feeds({"company": ["eventnet.de", "calo.app/en", " WWW.Example.COM "]})
    assert feeds == [
        Feed(
            key="company:eventnet.de",
            start_url="https://www.trustpilot.com/review/eventnet.de?languages=all&sort=recency",
            subject_type="company",
            subject_id="eventnet.de",
            walkable=True,
        ),
        Feed(
            key="company:calo.app/en",
            start_url="https://www.trustpilot.com/review/calo.app/en?languages=all&sort=recency",
            subject_type="company",
            subject_id="calo.app/en",
            walkable=True,
        ),
        Feed(
            key="company:www.example.com",
            start_url="https://www.trustpilot.com/review/www.example.com?languages=all&sort=recency",
            subject_type="company",
            subject_id="www.example.com",
            walkable=True,
        ),
    ]
    assert make_feeds({}) == []
    assert reviews_url("eventnet.de", 2) == (
        "https://www.trustpilot.com/review/eventnet.de?languages=all&sort=recency&page=2"
    )
    assert company_name("bücher.de") == "bücher.de"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "eventnet",
        "event net.de",
        "https://www.trustpilot.com/review/eventnet.de",
        "eventnet.de?page=2",
        "eventnet.de/../x",
        "a..b.de",
        "-eventnet.de",
        "eventnet.de#reviews",
    ],
)
def test_bad_company_names_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="company names are domains") as caught:
        make_feeds({"company": [value]})
    assert repr(value) in str(caught.value)


def test_site_declaration() -> None:
    assert (SITE.key, SITE.name, SITE.base_url) == (
        "trustpilot",
        "Trustpilot",
        "https://www.trustpilot.com",
    )
    assert SITE.domains == ("trustpilot.com",)
    assert SITE.serves("de.trustpilot.com") and not SITE.serves("trustpilot.com.evil.net")
    assert SITE.subject_types == ("company",)
    assert [o.name for o in SITE.options] == ["company"]
    assert SITE.policy.min_delay == 2.0
    assert SITE.bench_baseline == "lxml+next_data"
    assert SITE.parser is parser and parser.PARSER_VERSION == "1"
    assert SITE.url_of_saved_page(NAME) == URL


# --- bad input ---------------------------------------------------------------------------------

CLOUDFLARE = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper">'
    b"<noscript>Enable JavaScript and cookies to continue</noscript></div>"
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>'
    b"</body></html>"
)
RATE_LIMITED = (
    b"<html><head><title>You are being rate limited</title></head><body><h1>You are being "
    b"rate limited</h1><p>Please try again later.</p></body></html>"
)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page (0 bytes): fetch it again"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "not an HTML page"),
        (b'{"props": {"pageProps": {"reviews": []}}}', "not an HTML page"),
        (
            b"<html><body><p>A forum thread about trustpilot</p></body></html>",
            "no __NEXT_DATA__ script: not a Trustpilot review page",
        ),
        (CLOUDFLARE, "blocked: Trustpilot answered with a Cloudflare challenge"),
        (RATE_LIMITED, "blocked: Trustpilot answered with a rate-limit page"),
        (
            b"<html><head><title>Trustpilot</title></head><body>"
            b'<script src="/cdn-cgi/challenge-platform/x.js"></script></body></html>',
            "blocked: Trustpilot answered with a challenge page",
        ),
        (
            b'<html><body><script id="__NEXT_DATA__" type="application/json">'
            b'{"props": {"pageProps": {"statusCode": 404}}, "page": "/_error"}</script>'
            b"</body></html>",
            "__NEXT_DATA__ has no pageProps.reviews list (Next.js page '/_error')",
        ),
        (
            b'<html><body><script id="__NEXT_DATA__" type="application/json">[1, 2]</script>'
            b"</body></html>",
            "__NEXT_DATA__ is not a JSON object",
        ),
        (
            b'<html><body><script id="__NEXT_DATA__" type="application/json">'
            + b"[" * 100_000
            + b"</script></body></html>",
            "__NEXT_DATA__ is",
        ),
    ],
    ids=[
        "empty",
        "png",
        "json",
        "no-next-data",
        "cloudflare",
        "rate-limited",
        "challenge-script",
        "error-page",
        "not-an-object",
        "deep",
    ],
)
def test_not_a_review_page(body: bytes, reason: str) -> None:
    assert refused(body).reason.startswith(reason)


def test_page_without_next_data() -> None:
    body = _SCRIPT.sub(b"", saved(), count=1)
    assert refused(body).reason == (
        "no __NEXT_DATA__ script: not a Trustpilot review page, or the layout changed"
    )


def test_page_cut_in_half() -> None:
    body = saved()
    assert refused(body[: len(body) // 2]).reason == (
        "page is cut short (it ends before </html>): fetch it again"
    )


def test_page_cut_inside_or_after_the_script() -> None:
    body = saved()
    end = body.index(b"</script>", body.index(b"__NEXT_DATA__"))
    for cut in (end - 5000, end, end + len(b"</script>"), len(body) - 3):
        assert refused(body[:cut]).reason == (
            "page is cut short (it ends before </html>): fetch it again"
        )


def test_truncated_json() -> None:
    body = saved()
    match = _SCRIPT.search(body)
    assert match is not None
    cut = match.group(1) + match.group(2)[: len(match.group(2)) // 2] + match.group(3)
    error = refused(body.replace(match.group(0), cut, 1))
    assert error.reason.startswith("__NEXT_DATA__ is not valid JSON (")


def test_bytes_that_are_not_utf8_inside_the_json() -> None:
    body = saved()
    start = body.index(b"__NEXT_DATA__")
    at = body.index(b"Saskia Herrmann", start)
    body = body[:at] + "Saskia Hérrmann".encode("latin-1") + body[at + 15 :]
    assert refused(body).reason.startswith("__NEXT_DATA__ is not valid JSON (")


def test_challenge_title_on_a_full_page() -> None:
    body = saved().replace(b"<title>", b"<title>Just a moment...", 1)
    assert refused(body).reason == (
        "blocked: Trustpilot answered with a Cloudflare challenge ('Just a moment...') instead "
        "of the review page; slow down and fetch it again later"
    )


def test_a_company_title_with_block_words_is_not_blocked() -> None:
    body = saved().replace(b"<title>", b"<title>Rate Limited Ltd (not just a moment) ", 1)
    assert len(parser.parse(body, URL).reviews) == 20


def test_utf16_page_reads_the_same() -> None:
    body = saved()
    utf16 = body.decode("utf-8").encode("utf-16")
    assert [r.to_dict() for r in parser.parse(utf16, URL).reviews] == [
        r.to_dict() for r in parser.parse(body, URL).reviews
    ]
