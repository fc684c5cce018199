"""The Goodreads parser: paging and kind per page, feeds, the site's special rules, and bad input.

The saved pages' reviews are compared field by field with their `.expected.jsonl` in
`tests/sites/test_saved_pages.py`; here each rule of `shared/docs/sites.md` gets a case of its own.
Variants of the real pages are made by editing their `__NEXT_DATA__` JSON (`with_data`) or bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast

import lxml.html
import pytest

from reviewhoard.items import CONTRACT_FIELDS
from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import all_sites, site_for_url, site_named
from reviewhoard.sites.goodreads import SITE, parser
from reviewhoard.sites.goodreads.feeds import book_id, fragment_page_url, make_feeds
from reviewhoard.sites.site import CrawlPolicy
from tests.conftest import fixtures_dir

CURRENT = "book-14476341-reviews-2025-04.html"
OLD = "book-15797938-reviews-fragment-2020-old.html"
CURRENT_URL = "https://www.goodreads.com/book/show/14476341-the-great-gatsby/reviews"
OLD_URL = (
    "https://www.goodreads.com/book/reviews/15797938-the-dinner"
    "?edition_reviews=true&rating=5&text_only=true"
)
RESTRICTED = "kca://review:goodreads/amzn1.gr.review:goodreads.v1.LwyGAouFpvodbemNj-UtEg"
DATA_OPEN = b'<script id="__NEXT_DATA__" type="application/json">'


def page(name: str) -> bytes:
    return (fixtures_dir() / "goodreads" / name).read_bytes()


def with_data(body: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """The page with its `__NEXT_DATA__` JSON changed by `change` (escaped as Next.js does)."""
    start = body.index(DATA_OPEN) + len(DATA_OPEN)
    end = body.index(b"</script>", start)
    data = json.loads(body[start:end])
    change(data)
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return body[:start] + text.encode("utf-8") + body[end:]


def state(data: dict[str, Any]) -> dict[str, Any]:
    apollo: dict[str, Any] = data["props"]["pageProps"]["apolloState"]
    return apollo


def review_keys(data: dict[str, Any]) -> list[str]:
    edges = state(data)["ROOT_QUERY"]["getReviews"]["edges"]
    return [edge["node"]["__ref"] for edge in edges]


def first_review(data: dict[str, Any]) -> dict[str, Any]:
    review: dict[str, Any] = state(data)[review_keys(data)[0]]
    return review


def refused(body: bytes, url: str = CURRENT_URL) -> PageError:
    with pytest.raises(PageError) as caught:
        parser.parse(body, url)
    assert caught.value.where == url
    assert caught.value.reason
    assert str(caught.value).startswith(f"{url}: ")
    return caught.value


# --- kind and paging ----------------------------------------------------------------------


def test_current_page_kind_count_and_no_next_page() -> None:
    parsed = parser.parse(page(CURRENT), CURRENT_URL)
    assert parsed.kind == "book_reviews"
    assert (len(parsed.reviews), parsed.block_count) == (30, 30)
    assert parsed.next_url is None  # 30 rendered, no link to more


def test_old_fragment_kind_and_next_page() -> None:
    parsed = parser.parse(page(OLD), OLD_URL)
    assert parsed.kind == "reviews_fragment"
    assert (len(parsed.reviews), parsed.block_count) == (30, 30)
    assert parsed.next_url == (
        "https://www.goodreads.com/book/reviews/15797938-the-dinner"
        "?edition_reviews=true&rating=5&text_only=true&page=2"
    )


@pytest.mark.parametrize(
    ("query", "next_query"),
    [
        ("page=3&rating=5", "page=4&rating=5"),
        ("rating=5&page=9", "rating=5&page=10"),
        ("rating=5&page=10", None),  # the "Top 300": at most 10 pages
        ("page=0", "page=2"),
    ],
)
def test_old_fragment_pages(query: str, next_query: str | None) -> None:
    url = f"https://www.goodreads.com/book/reviews/15797938-the-dinner?{query}"
    expected = None
    if next_query:
        expected = f"https://www.goodreads.com/book/reviews/15797938-the-dinner?{next_query}"
    assert parser.parse(page(OLD), url).next_url == expected


def test_old_fragment_not_full_has_no_next_page() -> None:
    body = page(OLD).replace(b"Showing 1-30", b"Showing 1-29", 1)  # a last page
    start = body.rindex(b'<div class="friendReviews elementListBrown"')
    separator = b'<div class="elementListBrownSeparator"></div>'
    end = body.rindex(separator) + len(separator)
    parsed = parser.parse(body[:start] + body[end:], OLD_URL)  # the last review gone
    assert (len(parsed.reviews), parsed.reviews[-1].review_id) == (29, "567908484")
    assert parsed.next_url is None


def test_fragment_page_url_keeps_query_on_canonical_host() -> None:
    assert fragment_page_url("http://goodreads.com/book/reviews/1-x?a=1&page=2&b=", 3) == (
        "https://www.goodreads.com/book/reviews/1-x?a=1&page=3&b="
    )
    assert fragment_page_url("not a url", 2) is None


# --- the site and its feeds ---------------------------------------------------------------


def test_site_declaration() -> None:
    assert all_sites()["goodreads"] is SITE
    assert site_named("GR") is SITE
    assert site_for_url(CURRENT_URL) is SITE
    assert SITE.subject_types == ("book",)
    assert [option.name for option in SITE.options] == ["book"]
    assert SITE.policy == CrawlPolicy(min_delay=2.0)
    assert SITE.bench_baseline == "lxml+next_data"
    assert SITE.url_of_saved_page(CURRENT) == CURRENT_URL
    assert SITE.url_of_saved_page(OLD) == OLD_URL
    saved = {p.name for p in (fixtures_dir() / "goodreads").glob("*.html")}
    assert saved == set(SITE.saved_pages)


def test_make_feeds_reduces_each_form_to_the_id() -> None:
    feeds = make_feeds({"book": ["14476341", "4671-the-great-gatsby", "4671.The_Great_Gatsby "]})
    assert [f.key for f in feeds] == ["book:14476341", "book:4671", "book:4671"]
    first = feeds[0]
    assert first.start_url == "https://www.goodreads.com/book/show/14476341/reviews"
    assert (first.subject_type, first.subject_id) == ("book", "14476341")
    assert first.walkable is False  # only 30 reviews are shown: nothing can be marked gone
    assert first.expects_reviews is False
    assert make_feeds({}) == []


@pytest.mark.parametrize(
    "value", ["", "abc", "-1", "0", "12a", "the-great-gatsby-14476341", "１２３", "1/reviews"]
)
def test_bad_book_ids_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="book ids are numbers"):
        make_feeds({"book": [value]})
    with pytest.raises(ValueError):
        book_id(value)


# --- the current page: special rules ------------------------------------------------------


def test_current_first_review_fields() -> None:
    review = parser.parse(page(CURRENT), CURRENT_URL).reviews[0]
    assert review.review_id == "101057684"
    assert review.url == "https://www.goodreads.com/review/show/101057684"
    assert review.published_at == "2010-05-03T02:39:15Z"  # createdAt in UTC, not the card date
    assert (review.rating, review.rating_scale) == (5, 5)
    assert review.reactions == {"likes": 2289, "comments": 129}
    assert (review.author.name, review.author.url) == (
        "Nataliya",
        "https://www.goodreads.com/user/show/3672777-nataliya",
    )
    assert (review.subject.type, review.subject.id, review.subject.title) == (
        "book",
        "14476341",
        "The Great Gatsby",
    )
    assert review.subject.url == "https://www.goodreads.com/book/show/14476341-the-great-gatsby"
    assert review.extra["shelf"] == "read"
    assert review.extra["shelves"][:2] == ["my-childhood-bookshelves", "2013-reads"]
    assert review.extra["revised_at"] == "2023-03-17T18:22:11Z"
    assert list(review.to_dict())[: len(CONTRACT_FIELDS)] == list(CONTRACT_FIELDS)


def test_restricted_review_keeps_goodreads_id_and_no_url() -> None:
    reviews = parser.parse(page(CURRENT), CURRENT_URL).reviews
    restricted = [r for r in reviews if r.url is None]
    assert len(restricted) == 1
    review = restricted[0]
    assert reviews.index(review) == 16  # never dropped, in its place
    assert review.review_id == RESTRICTED
    assert review.reactions is None
    assert review.author.name == "Ahmad Sharabiani"
    assert review.text.startswith("(Book 699 From 1001 Books) - The Great Gatsby")


def test_spoiler_review_is_tagged() -> None:
    reviews = parser.parse(page(CURRENT), CURRENT_URL).reviews
    spoilers = [(r.review_id, r.tags, r.is_spoiler) for r in reviews if r.is_spoiler]
    assert spoilers == [("10973302", ["spoiler"], True)]
    assert all(r.tags == [] and r.is_spoiler is False for r in reviews if r.review_id != "10973302")


def test_inline_spoiler_label_keeps_its_text_and_sets_nothing() -> None:
    reviews = parser.parse(page(CURRENT), CURRENT_URL).reviews
    [review] = [r for r in reviews if "nurses a secret" in r.text]
    assert "he nurses a secret is he in love with Gatsby, or merely dazzled by him?" in review.text
    assert "marked spoiler" not in review.text
    assert review.is_spoiler is False


def test_rewritten_data_reads_the_same() -> None:
    """The helper that edits `__NEXT_DATA__` changes nothing by itself."""
    body = page(CURRENT)
    again = with_data(body, lambda data: None)
    assert again != body
    want = [r.to_dict() for r in parser.parse(body, CURRENT_URL).reviews]
    assert [r.to_dict() for r in parser.parse(again, CURRENT_URL).reviews] == want


def test_unrated_review_has_no_rating() -> None:
    body = with_data(page(CURRENT), lambda d: first_review(d).update(rating=0))
    review = parser.parse(body, CURRENT_URL).reviews[0]
    assert (review.review_id, review.rating, review.rating_scale) == ("101057684", None, None)


def test_author_name_is_stripped() -> None:
    reviews = parser.parse(page(CURRENT), CURRENT_URL).reviews
    assert reviews[1].author.name == "Sean Barrs"  # "Sean Barrs " in the data


def test_paragraph_elements_are_paragraphs() -> None:
    def change(data: dict[str, Any]) -> None:
        first_review(data)["text"] = (
            "intro<blockquote>quoted<br>line</blockquote>after &amp; more<ul><li>one</li>"
            "<li>two<img src='x.png'></li></ul><p>last&nbsp; words</p><script>no()</script>"
        )

    review = parser.parse(with_data(page(CURRENT), change), CURRENT_URL).reviews[0]
    assert review.text == ("intro\n\nquoted\nline\n\nafter & more\n\none\n\ntwo\n\nlast words")


def test_text_holding_the_parser_marks_is_read_the_same() -> None:
    def change(data: dict[str, Any]) -> None:
        first_review(data)["text"] = "a\ufdd0b<br>c<blockquote>d\ufdd1e</blockquote>f"

    review = parser.parse(with_data(page(CURRENT), change), CURRENT_URL).reviews[0]
    assert review.text == "a\ufdd0b\nc\n\nd\ufdd1e\n\nf"


def test_plain_text_review() -> None:
    def change(data: dict[str, Any]) -> None:
        first_review(data)["text"] = "  plain\n  text\xa0 here  "

    review = parser.parse(with_data(page(CURRENT), change), CURRENT_URL).reviews[0]
    assert review.text == "plain text here"


def cards(body: bytes) -> list[dict[str, Any]]:
    """What the visible `article.ReviewCard` blocks show: author, rating, review link."""
    out = []
    root = lxml.html.fromstring(body)
    for card in cast(list[Any], root.xpath("//article[@class='ReviewCard']")):
        [name] = card.xpath(".//div[@data-testid='name']//a/text()")
        [label] = card.xpath(".//span[contains(@class, 'RatingStars')]/@aria-label")
        links = card.xpath(".//section[@class='ReviewCard__row']//a/@href")
        stars = re.fullmatch(r"Rating (\d) out of 5", label)
        assert stars is not None
        out.append(
            {
                "author": " ".join(name.split()),
                "rating": int(stars.group(1)),
                "url": links[0] if links else None,
            }
        )
    return out


def test_cards_agree_with_next_data() -> None:
    """The visible cards show the same reviews in the same order as the JSON the parser reads."""
    body = page(CURRENT)
    shown = cards(body)
    parsed = parser.parse(body, CURRENT_URL).reviews
    assert len(shown) == len(parsed) == 30
    for card, review in zip(shown, parsed, strict=True):
        assert card["author"] == review.author.name
        assert card["rating"] == review.rating
        assert card["url"] == review.url
    assert sum(card["url"] is None for card in shown) == 1  # the restricted review


def test_card_count_disagreeing_with_data_is_refused() -> None:
    body = page(CURRENT)
    start = body.index(b'<article class="ReviewCard"')
    end = body.index(b"</article>", start) + len(b"</article>")
    error = refused(body[:start] + body[end:])
    assert error.reason.startswith("the page shows 29 review cards but its __NEXT_DATA__ lists 30")


# --- the old fragment: special rules --------------------------------------------------------


def test_old_first_review_fields() -> None:
    parsed = parser.parse(page(OLD), OLD_URL)
    review = parsed.reviews[0]
    assert review.review_id == "569553002"
    assert review.url == "https://www.goodreads.com/review/show/569553002"
    assert review.published_at == "2013-03-24"
    assert (review.rating, review.rating_scale) == (5, 5)
    assert review.reactions == {"likes": 186, "comments": 34}
    assert (review.author.name, review.author.url) == (
        "Noeleen",
        "https://www.goodreads.com/user/show/5333773-noeleen",
    )
    assert (review.subject.id, review.subject.title) == ("15797938", "The Dinner")
    # The whole text (span#freeTextN), not the cut preview before it.
    assert review.text.endswith("One of my favourite reads of 2013 so far!")
    assert "...more" not in review.text
    assert (review.tags, review.is_spoiler) == ([], False)
    assert review.extra == {"shelf": None, "shelves": []}
    by_id = {r.review_id: r for r in parsed.reviews}
    assert by_id["567908484"].extra["shelves"] == ["favorites", "literary-fiction"]
    assert "Shelves" not in by_id["567908484"].text


def test_old_comment_counts() -> None:
    by_id = {r.review_id: r for r in parser.parse(page(OLD), OLD_URL).reviews}
    assert by_id["1674758959"].reactions == {"likes": 12, "comments": 1}  # "View 1 comment"
    assert by_id["1336141400"].reactions == {"likes": 13, "comments": 2}  # "View 2 comments"
    assert by_id["679283830"].reactions == {"likes": 26, "comments": 0}  # empty box


def test_old_no_break_space_is_a_space() -> None:
    by_id = {r.review_id: r for r in parser.parse(page(OLD), OLD_URL).reviews}
    assert "their dads are brothers. The sons have" in by_id["2015209211"].text


def test_old_unrated_review_has_no_rating() -> None:
    body = page(OLD)
    start = body.index(b'<span class=" staticStars notranslate"')
    end = body.index(b"</span></span>", start) + len(b"</span></span>")
    review = parser.parse(body[:start] + body[end:], OLD_URL).reviews[0]
    assert (review.review_id, review.rating, review.rating_scale) == ("569553002", None, None)


def test_old_stars_must_agree_with_their_label() -> None:
    body = page(OLD).replace(b'title="it was amazing"', b'title="liked it"', 1)
    error = refused(body, OLD_URL)
    assert error.reason.startswith("old layout: review 569553002 has no stars that agree")


def test_old_spoiler_buttons_are_not_text() -> None:
    body = page(OLD).replace(
        b"I beg to differ",
        b'<a class="jsShowSpoiler spoilerAction" href="#">(view spoiler)</a>I beg to differ',
    )
    review = parser.parse(body, OLD_URL).reviews[0]
    assert review.text.startswith(
        "The Wall Street Journal has tagged The Dinner as ‘the European Gone Girl’. I beg to differ"
    )
    assert "view spoiler" not in review.text


def test_old_subject_from_url_without_review_cta() -> None:
    body = page(OLD).replace(b"ReactComponents.ReviewCta", b"ReactComponents.Other")
    review = parser.parse(body, OLD_URL).reviews[0]
    assert (review.subject.id, review.subject.title) == ("15797938", None)


def test_old_latin1_bytes_are_read() -> None:
    body = page(OLD).decode("utf-8").encode("cp1252", errors="replace")
    reviews = parser.parse(body, OLD_URL).reviews
    assert reviews[0].text.startswith("The Wall Street Journal has tagged The Dinner as ‘the")


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page (0 bytes)"),
        (b" \r\n\t", "empty page (4 bytes)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "not an HTML page"),
        (b'{"props": {"pageProps": {}}}', "not an HTML page (no markup in its first 4 KB)"),
        (b"<html><body><p>Some other page</p></body></html>", "not a Goodreads book reviews page"),
    ],
    ids=["empty", "whitespace", "png", "json", "unknown-html"],
)
def test_not_a_reviews_page(body: bytes, reason: str) -> None:
    assert refused(body).reason.startswith(reason)


def test_card_page_without_next_data_is_refused() -> None:
    body = page(CURRENT)
    start = body.index(DATA_OPEN)
    end = body.index(b"</script>", start) + len(b"</script>")
    error = refused(body[:start] + body[end:])
    assert error.reason.startswith("review cards (article.ReviewCard) without their __NEXT_DATA__")
    assert "creation date" in error.reason


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.99999])
def test_current_page_cut_short_is_refused(fraction: float) -> None:
    body = page(CURRENT)
    error = refused(body[: int(len(body) * fraction)])
    assert error.reason == "page is cut short (it ends before </html>): fetch it again"


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.75, 0.95])
def test_old_fragment_cut_short_is_refused(fraction: float) -> None:
    body = page(OLD)
    error = refused(body[: int(len(body) * fraction)], OLD_URL)
    assert error.reason.startswith("old layout: ")
    assert "cut short" in error.reason


def test_old_fragment_cut_after_a_whole_block_is_refused() -> None:
    """Even when the cut leaves only whole reviews: "Showing 1-30" says how many there are."""
    body = page(OLD)
    separator = b'<div class="elementListBrownSeparator"></div>'
    cut = body[: body.index(separator, len(body) // 2) + len(separator)]
    error = refused(cut, OLD_URL)
    assert error.reason.startswith("old layout: the fragment shows 30 reviews (Showing 1-30)")


def test_truncated_json_is_refused() -> None:
    body = page(CURRENT)
    end = body.index(b"</script>", body.index(DATA_OPEN))
    error = refused(body[: end - 5000] + body[end:])
    assert error.reason.startswith("__NEXT_DATA__ is not valid JSON")


def test_deeply_nested_json_is_refused() -> None:
    body = page(CURRENT)
    start = body.index(DATA_OPEN) + len(DATA_OPEN)
    end = body.index(b"</script>", start)
    deep = b"[" * 100_000 + b"]" * 100_000
    error = refused(body[:start] + deep + body[end:])
    assert error.reason.startswith("__NEXT_DATA__ ")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(page="/book/show/[book_id]"), "__NEXT_DATA__ is of the Next.js page"),
        (lambda d: d["props"]["pageProps"].pop("apolloState"), "__NEXT_DATA__ has no props."),
        (lambda d: state(d)["ROOT_QUERY"].pop("getReviews"), "__NEXT_DATA__ has 0 review lists"),
        (
            lambda d: first_review(d).update(creator={"__ref": "User:0"}),
            "__NEXT_DATA__ has no User (creator)",
        ),
        (lambda d: first_review(d).update(createdAt=None), "review kca://review"),
        (lambda d: first_review(d).update(rating=6), "review kca://review"),
        (lambda d: first_review(d).update(text=None), "review kca://review"),
        (lambda d: first_review(d).update(likeCount="many"), "review kca://review"),
        (lambda d: first_review(d).update(spoilerStatus=None), "review kca://review"),
    ],
    ids=[
        "route",
        "no-state",
        "no-reviews",
        "no-user",
        "no-date",
        "rating",
        "text",
        "likes",
        "spoiler",
    ],
)
def test_data_missing_what_a_review_needs_is_refused(
    change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    error = refused(with_data(page(CURRENT), change))
    assert error.reason.startswith(reason)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        b"<div id='challenge-running'></div><script src='/cdn-cgi/challenge-platform/x.js'>"
        b"</script></body></html>",
        b"<html><head><title>Attention Required! | Cloudflare</title></head><body>Sorry, you "
        b"have been blocked</body></html>",
        b"<html><head><title>Robot Check</title></head><body><form action="
        b"'/errors/validateCaptcha'></form></body></html>",
        b"<!DOCTYPE html><html><head><script>window.gokuProps = {};</script>"
        b"<script src='https://x.token.awswaf.com/challenge.js'></script></head>"
        b"<body><div id='captcha-container'></div></body></html>",
        b"<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD>"
        b"<BODY><H1>403 ERROR</H1>Request blocked.</BODY></HTML>",
    ],
    ids=["cloudflare-challenge", "cloudflare-block", "amazon-robot-check", "aws-waf", "cloudfront"],
)
def test_challenge_page_is_blocked(body: bytes) -> None:
    error = refused(body)
    assert error.reason.startswith("blocked: Goodreads answered with ")


def test_review_text_nested_too_deep_is_refused() -> None:
    def change(data: dict[str, Any]) -> None:
        first_review(data)["text"] = "<span>" * 3000 + "deep" + "</span>" * 3000 + "after"

    error = refused(with_data(page(CURRENT), change))
    assert error.reason.startswith("markup nested deeper than the HTML parser's limit")


def test_old_fragment_nested_too_deep_is_refused() -> None:
    body = page(OLD).replace(b"I beg to differ", b"<span>" * 3000 + b"I beg to differ", 1)
    error = refused(body, OLD_URL)
    assert error.reason.startswith("markup nested deeper than the HTML parser's limit")


def test_old_blocks_swallowed_by_unclosed_markup_are_refused() -> None:
    # The first block (and its section) never close: the next block opens inside it.
    closing = b'<div class="clear"></div></div>    </div>  </div>'
    body = page(OLD).replace(closing, b'<div class="clear"></div>', 1)
    error = refused(body, OLD_URL)
    assert error.reason.startswith("old layout: review blocks are nested in one another")


def test_old_block_missing_its_footer_is_refused() -> None:
    body = page(OLD).replace(b'<div class="reviewFooter uitext buttons">', b"<div>", 1)
    error = refused(body, OLD_URL)
    assert error.reason == (
        "old layout: review 569553002 has no div.reviewFooter: the page is cut short or the "
        "layout changed; nothing from the page was kept"
    )


def test_every_review_is_whole() -> None:
    """No furniture in any text, every field of the record there, on both layouts."""
    for name, url in ((CURRENT, CURRENT_URL), (OLD, OLD_URL)):
        for review in parser.parse(page(name), url).reviews:
            data = review.to_dict()
            assert data["site"] == "goodreads" and data["text"]
            assert set(data["reactions"] or {}) <= {"likes", "comments"}
            for furniture in ("Show more", "...more", "Like\n", "rated it", "see review"):
                assert furniture not in data["text"]
