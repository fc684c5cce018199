"""The schema.org parser: the hand-made pages in `pages/` against their `.expected.jsonl`, every
rule of sites.md's "Any site" section with a case, the feeds, and bad input.

There are no saved schema.org pages in ../shared/fixtures: the pages here were written for these
tests (a product page with an `@graph` and `@id` references, recipe and book pages with review
arrays, a microdata-only page, a page with both, a page with a malformed block, a page without
reviews), and their expected files were written by reading the pages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.sites import all_sites, site_for_url, site_named
from reviewhoard.sites.schemaorg import SITE, parser
from reviewhoard.sites.schemaorg.feeds import make_feeds
from tests.expected import load_expected, mismatches

PAGES = Path(__file__).resolve().parent / "pages"
PAGE_URLS: dict[str, str] = {
    "product-graph.html": "https://www.northwind-outfitters.example/products/trail-runner-3",
    "recipe-review-array.html": (
        "https://www.thesaltedkettle.example/recipes/brown-butter-banana-bread/"
    ),
    "book-reviews-plural.html": "https://www.quietshelf.example/books/the-left-hand-of-darkness",
    "restaurant-microdata.html": "https://www.tablehop.example/r/osaka-noodle-bar-berlin",
    "app-jsonld-and-microdata.html": "https://apps.fieldnotes.example/app/mossy-weather",
    "film-malformed-block.html": "https://www.reelnotes.example/2024/03/dune-part-two-review/",
    "factcheck-no-reviews.html": "https://www.factline.example/checks/2024/solar-panels-winter",
}
KINDS = {
    "product-graph.html": ("jsonld", 4),
    "recipe-review-array.html": ("jsonld", 3),
    "book-reviews-plural.html": ("jsonld", 3),
    "restaurant-microdata.html": ("microdata", 3),
    "app-jsonld-and-microdata.html": ("jsonld", 2),
    "film-malformed-block.html": ("jsonld", 2),
    "factcheck-no-reviews.html": ("no_reviews", 0),
}
URL = "https://shop.example/p/lamp"
EXTRAS = ("title", "language")


def parse_page(name: str) -> ParsedPage:
    return parser.parse((PAGES / name).read_bytes(), PAGE_URLS[name])


def page(*blocks: Any, body: str = "") -> bytes:
    """A small HTML page with the given JSON-LD blocks (dicts/lists, or raw strings) and body."""
    scripts = "".join(
        '<script type="application/ld+json">'
        + (b if isinstance(b, str) else json.dumps(b))
        + "</script>\n"
        for b in blocks
    )
    return (
        f"<!DOCTYPE html><html><head><title>t</title>{scripts}</head><body>{body}</body></html>"
    ).encode()


def reviews_of(body: bytes, url: str = URL) -> list[dict[str, Any]]:
    return [r.to_dict() for r in parser.parse(body, url).reviews]


def one(review: dict[str, Any], url: str = URL) -> dict[str, Any]:
    """The record of a page holding one Product with this one review."""
    got = reviews_of(page({"@type": "Product", "name": "Lamp", "review": review}), url)
    assert len(got) == 1
    return got[0]


def sha1_id(author: str, date: str, text: str) -> str:
    squeezed = "".join(text.split())
    return "sha1:" + hashlib.sha1(f"{author}\n{date}\n{squeezed}".encode()).hexdigest()[:16]


# --- the pages and their expected files ------------------------------------------------------


def test_every_page_has_a_url_and_an_expected_file() -> None:
    assert sorted(p.name for p in PAGES.glob("*.html")) == sorted(PAGE_URLS)
    for name in PAGE_URLS:
        assert load_expected(PAGES / name) is not None, name


@pytest.mark.parametrize("name", sorted(PAGE_URLS))
def test_page_gives_its_expected_reviews(name: str) -> None:
    expected = load_expected(PAGES / name)
    assert expected is not None
    parsed = parse_page(name)
    got = [r.to_dict() for r in parsed.reviews]
    problems = mismatches(expected, got)
    assert not problems, f"{name}:\n" + "\n".join(problems)
    # The extras and the unpinned parts are checked here too: the expected files hold them.
    for want, have in zip(expected, got, strict=True):
        assert {k: have[k] for k in EXTRAS} == {k: want[k] for k in EXTRAS}
        assert have["subject"] == want["subject"]
        assert have["author"] == want["author"]
        assert have["published_at"] == want["published_at"]
        assert have["site"] == "schemaorg"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_kind_count_and_no_next_page(name: str) -> None:
    parsed = parse_page(name)
    assert (parsed.kind, parsed.block_count) == KINDS[name]
    assert len(parsed.reviews) == parsed.block_count
    assert parsed.next_url is None


def test_same_page_read_twice_gives_the_same_ids() -> None:
    for name in PAGE_URLS:
        first = [r.review_id for r in parse_page(name).reviews]
        assert first == [r.review_id for r in parse_page(name).reviews]
    ids = [r.review_id for r in parse_page("recipe-review-array.html").reviews]
    assert all(i.startswith("sha1:") and len(i) == 21 for i in ids)


# --- the site declaration and its feeds ------------------------------------------------------


def test_site_declaration() -> None:
    assert all_sites()["schemaorg"] is SITE
    assert site_named("schemaorg") is SITE and site_named("Schema.org") is SITE
    assert (SITE.domains, SITE.base_url, dict(SITE.saved_pages)) == ((), "", {})
    assert SITE.parser.PARSER_VERSION == "1"
    assert SITE.policy.min_delay == 2.0
    assert SITE.bench_baseline == "lxml"
    assert [o.name for o in SITE.options] == ["url"]
    assert {"film", "book", "game", "company", "product", "recipe", "software"} <= set(
        SITE.subject_types
    )


def test_a_url_never_picks_this_site_by_its_host() -> None:
    with pytest.raises(PageError):
        site_for_url("https://www.northwind-outfitters.example/products/trail-runner-3")


def test_feeds_one_per_url() -> None:
    feeds = make_feeds(
        {"url": ["https://a.example/p/1", " http://b.example/x?y=1 ", "https://a.example/p/1"]}
    )
    assert [(f.key, f.start_url) for f in feeds] == [
        ("url:https://a.example/p/1", "https://a.example/p/1"),
        ("url:http://b.example/x?y=1", "http://b.example/x?y=1"),
    ]
    assert all(not f.walkable and f.subject_type is None and f.subject_id is None for f in feeds)
    assert make_feeds({}) == []
    assert SITE.make_feeds({"url": ["https://a.example/"]})[0].key == "url:https://a.example/"


def test_feed_has_no_next_page() -> None:
    feed = make_feeds({"url": [PAGE_URLS["product-graph.html"]]})[0]
    assert SITE.next_page(feed, parse_page("product-graph.html"), 1) is None


@pytest.mark.parametrize(
    "value",
    [
        "a.example/p/1",
        "/p/1",
        "ftp://a.example/x",
        "https://",
        "http:///x",
        "",
        "https://a b/x",
        "https://[bad/x",
        "javascript:alert(1)",
    ],
)
def test_bad_feed_url(value: str) -> None:
    with pytest.raises(ValueError, match=r"url takes|no spaces"):
        make_feeds({"url": [value]})


# --- where Review nodes are found ------------------------------------------------------------


def test_reviews_at_top_level_in_graph_in_arrays_and_under_reviews() -> None:
    review = {"@type": "Review", "author": "A", "reviewBody": "top"}
    body = page(
        review,
        {"@graph": [{"@type": "UserReview", "author": "B", "reviewBody": "graph"}]},
        [{"@type": "CriticReview", "author": "C", "reviewBody": "array"}],
        {"@type": "Book", "name": "Dune", "reviews": [{"@type": "Review", "reviewBody": "held"}]},
        {
            "@type": "WebPage",
            "mainEntity": {
                "@type": "Movie",
                "name": "Heat",
                "review": {"@type": "Review", "reviewBody": "deep"},
            },
        },
    )
    got = reviews_of(body)
    assert [r["text"] for r in got] == ["top", "graph", "array", "held", "deep"]
    assert [r["subject"]["type"] for r in got] == [None, None, None, "book", "film"]


def test_other_review_like_types_are_not_reviews() -> None:
    body = page(
        {"@type": "ClaimReview", "claimReviewed": "x", "reviewRating": {"ratingValue": 1}},
        {"@type": "Product", "aggregateRating": {"@type": "AggregateRating", "ratingValue": 4}},
        {"@type": "Review", "name": "empty template"},
    )
    parsed = parser.parse(body, URL)
    assert (parsed.kind, parsed.reviews, parsed.block_count) == ("no_reviews", [], 0)


def test_types_with_vocabulary_prefixes() -> None:
    body = page(
        {"@type": "http://schema.org/Review", "reviewBody": "a", "author": "A"},
        {"@type": ["schema:CriticReview"], "http://schema.org/reviewBody": "b", "author": "B"},
    )
    assert [r["text"] for r in reviews_of(body)] == ["a", "b"]


def test_references_resolve_across_blocks_first_met_keeps_its_place() -> None:
    """A Review met at the top level first, then through the product's review list: it stays
    first, and the product (the item holding it) is its subject."""
    body = page(
        {"@type": "Review", "@id": "#r1", "author": {"@id": "#ann"}, "reviewBody": "one"},
        {"@type": "Person", "@id": "#ann", "name": "Ann", "url": "/u/ann"},
        {
            "@type": "Product",
            "@id": "#p",
            "name": "Lamp",
            "review": [{"@id": "#r2"}, {"@id": "#r1"}],
        },
        {"@graph": [{"@type": "Review", "@id": f"{URL}#r2", "author": "Bo", "reviewBody": "two"}]},
    )
    got = reviews_of(body)
    assert [(r["review_id"], r["text"]) for r in got] == [
        (f"{URL}#r1", "one"),
        (f"{URL}#r2", "two"),
    ]
    assert all(
        r["subject"] == {"type": "product", "id": f"{URL}#p", "title": "Lamp", "url": None}
        for r in got
    )
    assert got[0]["author"] == {"name": "Ann", "url": "https://shop.example/u/ann"}


def test_nodes_sharing_an_id_are_merged() -> None:
    body = page(
        {
            "@type": "Product",
            "@id": "#p",
            "name": "Lamp",
            "review": [{"@type": "Review", "author": "A", "reviewBody": "first block"}],
        },
        {
            "@type": "Product",
            "@id": "#p",
            "name": "Lamp (new)",
            "review": [{"@type": "Review", "author": "B", "reviewBody": "second block"}],
        },
    )
    got = reviews_of(body)
    assert [r["text"] for r in got] == ["first block", "second block"]
    assert {r["subject"]["title"] for r in got} == {"Lamp"}


def test_reference_cycles_end() -> None:
    body = page(
        {"@type": "Product", "@id": "#p", "name": "Lamp", "review": {"@id": "#r"}},
        {
            "@type": "Review",
            "@id": "#r",
            "itemReviewed": {"@id": "#p"},
            "reviewBody": "loop",
            "author": {"@type": "Person", "name": "A", "knows": {"@id": "#r"}},
        },
    )
    assert [r["text"] for r in reviews_of(body)] == ["loop"]


def test_reverse_item_reviewed_names_the_subject() -> None:
    body = page(
        {
            "@type": "Movie",
            "@id": "#m",
            "name": "Heat",
            "@reverse": {
                "itemReviewed": [{"@type": "Review", "author": "A", "reviewBody": "tense"}]
            },
        }
    )
    (review,) = reviews_of(body)
    assert review["subject"]["type"] == "film" and review["subject"]["id"] == f"{URL}#m"


def test_empty_comments_end_where_they_start() -> None:
    """`<!-->` is a whole (empty) comment: the block after it is read."""
    for empty in (b"<!-->", b"<!--->"):
        body = page({"@type": "Review", "author": "A", "reviewBody": "after"}).replace(
            b"</title>", b"</title>" + empty
        )
        body = body.replace(b"</body>", b"<!-- later --></body>")
        assert [r["text"] for r in reviews_of(body)] == ["after"]


def test_block_inside_an_html_comment_is_not_read() -> None:
    body = page(
        {"@type": "Review", "author": "A", "reviewBody": "live"},
        body='<!-- <script type="application/ld+json">{"@type": "Review", "author": "B", '
        '"reviewBody": "commented out"}</script> -->',
    )
    assert [r["text"] for r in reviews_of(body)] == ["live"]


@pytest.mark.parametrize(
    "opening",
    [
        '<script type="application/ld+json; charset=utf-8">',
        "<SCRIPT TYPE='APPLICATION/LD+JSON'>",
        '<script id="x" type=application/ld+json nonce="abc">',
    ],
)
def test_script_type_spellings(opening: str) -> None:
    review = json.dumps({"@type": "Review", "author": "A", "reviewBody": "typed"})
    body = f"<html><head>{opening}{review}</script></head><body></body></html>".encode()
    assert [r["text"] for r in reviews_of(body)] == ["typed"]


def test_other_script_types_are_not_read() -> None:
    review = json.dumps({"@type": "Review", "author": "A", "reviewBody": "x"})
    body = (
        f'<html><head><script type="application/json">{review}</script>'
        f"<script>var x = {review};</script></head><body></body></html>"
    ).encode()
    assert parser.parse(body, URL).kind == "no_reviews"


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ('<!--\n{"@type": "Review", "author": "A", "reviewBody": "wrapped"}\n-->', "wrapped"),
        ('//<![CDATA[\n{"@type": "Review", "author": "A", "reviewBody": "cdata"}\n//]]>', "cdata"),
        (
            '{"@type": "Review", // a comment\n "author": "A", "reviewBody": "commented",}',
            "commented",
        ),
        ('/* widget */ [{"@type": "Review", "author": "A", "reviewBody": "listed"},]', "listed"),
        ('{"@type": "Review", "author": "A", "reviewBody": "two"}\n{"@type": "Thing"}', "two"),
        (
            '{"@type": "Review", "author": "A", "reviewBody": "raw\ttab, // kept"}',
            "raw tab, // kept",
        ),
    ],
    ids=["comment", "cdata", "line-comment", "block-comment", "two-objects", "raw-tab"],
)
def test_lenient_json(source: str, text: str) -> None:
    assert [r["text"] for r in reviews_of(page(source))] == [text]


# --- the fields ------------------------------------------------------------------------------


def test_review_id_rule() -> None:
    body_id = one(
        {
            "@type": "Review",
            "@id": "https://s.example/r/1",
            "url": "https://s.example/x",
            "reviewBody": "a",
        }
    )
    assert (body_id["review_id"], body_id["url"]) == (
        "https://s.example/r/1",
        "https://s.example/x",
    )
    by_url = one({"@type": "Review", "url": "/r/2", "reviewBody": "a"})
    assert (by_url["review_id"], by_url["url"]) == ("https://shop.example/r/2",) * 2
    text = "Bright,  warm light.\n\nGood   base."
    hashed = one(
        {
            "@type": "Review",
            "author": {"name": "Zoë"},
            "datePublished": " 3 March 2020",
            "reviewBody": text,
        }
    )
    assert hashed["review_id"] == sha1_id("Zoë", "3 March 2020", text)
    assert (
        hashed["review_id"]
        == "sha1:"
        + hashlib.sha1("Zoë\n3 March 2020\nBright,warmlight.Goodbase.".encode()).hexdigest()[:16]
    )
    assert hashed["url"] == URL
    # A missing part is "": no author, no date.
    bare = one({"@type": "Review", "reviewBody": text})
    assert bare["review_id"] == sha1_id("", "", text)
    assert (bare["author"], bare["published_at"]) == ({"name": None, "url": None}, None)


def test_sha1_id_does_not_change_with_whitespace_or_markup_spacing() -> None:
    a = one({"@type": "Review", "author": "Kim", "reviewBody": "Good lamp.\nBright."})
    b = one({"@type": "Review", "author": "Kim", "reviewBody": "Good   lamp.<br>\n Bright."})
    assert a["review_id"] == b["review_id"] and a["review_id"].startswith("sha1:")


@pytest.mark.parametrize(
    ("node_id", "url"),
    [
        ("https://s.example/reviews/9", "https://s.example/reviews/9"),
        ("https://s.example/p#review-9", URL),
        ("urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", URL),
        ("_:b0", URL),
    ],
)
def test_url_rule(node_id: str, url: str) -> None:
    got = one({"@type": "Review", "@id": node_id, "reviewBody": "a"})
    assert (got["review_id"], got["url"]) == (node_id, url)


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("Movie", "film"),
        ("Book", "book"),
        ("VideoGame", "game"),
        ("Organization", "company"),
        ("LocalBusiness", "company"),
        ("Store", "company"),
        ("Restaurant", "company"),
        ("Product", "product"),
        ("Recipe", "recipe"),
        ("Event", "event"),
        ("MusicGroup", "artist"),
        ("MusicAlbum", "music"),
        ("TVSeries", "tv"),
        ("SoftwareApplication", "software"),
        ("CreativeWork", "work"),
        ("Hotel", "hotel"),
        (["Thing", "Product"], "product"),
        ("https://schema.org/Movie", "film"),
        (["ProductModel"], "productmodel"),
    ],
)
def test_subject_type_mapping(types: Any, expected: str) -> None:
    body = page({"@type": types, "name": "X", "review": {"@type": "Review", "reviewBody": "a"}})
    assert reviews_of(body)[0]["subject"]["type"] == expected


@pytest.mark.parametrize(
    ("item", "subject_id"),
    [
        ({"@id": "#it", "url": "/x", "sameAs": "https://w.example/1", "name": "N"}, f"{URL}#it"),
        ({"url": "/x", "sameAs": "https://w.example/1", "name": "N"}, "https://shop.example/x"),
        (
            {"sameAs": ["https://w.example/1", "https://w.example/2"], "name": "N"},
            "https://w.example/1",
        ),
        ({"name": "N"}, "N"),
        ({}, URL),
    ],
)
def test_subject_id_fallbacks(item: dict[str, Any], subject_id: str) -> None:
    review = {"@type": "Review", "reviewBody": "a", "itemReviewed": {"@type": "Product", **item}}
    got = reviews_of(page(review))[0]["subject"]
    assert got["id"] == subject_id and got["type"] == "product"


def test_item_reviewed_wins_over_the_holder_and_text_only_item() -> None:
    body = page(
        {
            "@type": "WebPage",
            "name": "Page",
            "review": [
                {
                    "@type": "Review",
                    "reviewBody": "a",
                    "itemReviewed": {"@type": "Book", "name": "Dune"},
                },
                {"@type": "Review", "reviewBody": "b", "itemReviewed": "  Heat  "},
                {"@type": "Review", "reviewBody": "c"},
            ],
        }
    )
    subjects = [r["subject"] for r in reviews_of(body)]
    assert subjects == [
        {"type": "book", "id": "Dune", "title": "Dune", "url": None},
        {"type": None, "id": "Heat", "title": "Heat", "url": None},
        {"type": "webpage", "id": "Page", "title": "Page", "url": None},
    ]


def test_review_about_nothing_named_is_about_the_page() -> None:
    (got,) = reviews_of(page({"@type": "Review", "author": "A", "reviewBody": "a"}))
    assert got["subject"] == {"type": None, "id": URL, "title": None, "url": URL}


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("Ann &amp; Bo", {"name": "Ann & Bo", "url": None}),
        (
            {"@type": "Person", "name": " Ann\n B. ", "url": "/u/ann"},
            {"name": "Ann B.", "url": "https://shop.example/u/ann"},
        ),
        ([{"name": "First"}, {"name": "Second"}], {"name": "First", "url": None}),
        (["Plain", "Other"], {"name": "Plain", "url": None}),
        ({"givenName": "Ada", "familyName": "Lovelace"}, {"name": "Ada Lovelace", "url": None}),
        ({"name": {"@value": "Valued"}}, {"name": "Valued", "url": None}),
        ({"name": "Jo", "url": "javascript:void(0)"}, {"name": "Jo", "url": None}),
        (None, {"name": None, "url": None}),
    ],
)
def test_author(author: Any, expected: dict[str, Any]) -> None:
    assert one({"@type": "Review", "author": author, "reviewBody": "a"})["author"] == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2020-03-03", "2020-03-03"),
        ("2020-03-03T10:15:00+01:00", "2020-03-03T10:15:00+01:00"),
        ("2020-03-03T10:15:00.123Z", "2020-03-03T10:15:00.123Z"),
        ("2020-03-03 10:15", "2020-03-03T10:15"),
        ("March 3, 2020", "2020-03-03"),
        ("Mar. 3 2020", "2020-03-03"),
        ("Sept 30, 2021", "2021-09-30"),
        ("3 March 2020", "2020-03-03"),
        ("3rd March, 2020", "2020-03-03"),
        ("Tuesday, March 3, 2020", "2020-03-03"),
        ("2020-02-30", None),
        ("2020-03-03T25:00", None),
        ("03/03/2020", None),
        ("2020-03", None),
        ("yesterday", None),
        ("Smarch 3, 2020", None),
        (20200303, None),
    ],
)
def test_published_at(given: Any, expected: str | None) -> None:
    got = one({"@type": "Review", "datePublished": given, "reviewBody": "a"})
    assert got["published_at"] == expected


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        ({"ratingValue": "4,5"}, (4.5, 5)),
        ({"ratingValue": 4, "bestRating": 10}, (4, 10)),
        ({"ratingValue": " 8 ", "bestRating": "10"}, (8, 10)),
        ({"ratingValue": "4.0", "bestRating": "5"}, (4.0, 5)),
        ({"ratingValue": [3, 4]}, (3, 5)),
        ({"ratingValue": "four"}, (None, None)),
        ({"ratingValue": True}, (None, None)),
        ({"bestRating": 5}, (None, None)),
        ("4", (4, 5)),
        (None, (None, None)),
    ],
)
def test_rating(rating: Any, expected: tuple[Any, Any]) -> None:
    got = one({"@type": "Review", "reviewRating": rating, "reviewBody": "a"})
    assert (got["rating"], got["rating_scale"]) == expected
    assert type(got["rating"]) is type(expected[0])


@pytest.mark.parametrize(
    ("node", "text"),
    [
        ({"reviewBody": "Line one\r\nLine two\n\n\n\nLast"}, "Line one\nLine two\n\nLast"),
        ({"reviewBody": "Tom &amp; Jerry &ndash; R&D &notice"}, "Tom & Jerry – R&D &notice"),
        ({"reviewBody": "<p>One <b>bold</b></p><p>Two<br/>three</p>"}, "One bold\nTwo\nthree"),
        ({"reviewBody": "I <3 it & 2 < 3"}, "I <3 it & 2 < 3"),
        ({"reviewBody": "late â€™90s"}, "late ’90s"),
        ({"reviewBody": "  ", "description": "from description"}, "from description"),
        ({"description": "only description"}, "only description"),
        ({"reviewBody": "nul\x00 and \ud800 gone"}, "nul and gone"),
    ],
    ids=[
        "newlines",
        "entities",
        "markup",
        "not-markup",
        "mojibake",
        "blank-body",
        "description",
        "controls",
    ],
)
def test_text(node: dict[str, Any], text: str) -> None:
    assert one({"@type": "Review", **node})["text"] == text


def test_rating_only_review_has_null_text() -> None:
    got = one({"@type": "Review", "author": "A", "reviewRating": {"ratingValue": 3}})
    assert (got["text"], got["rating"], got["review_id"]) == (None, 3, sha1_id("A", "", ""))


def test_other_fields_and_extras() -> None:
    got = one(
        {
            "@type": "Review",
            "headline": "Head",
            "name": "Name",
            "reviewBody": "a",
            "inLanguage": "fr",
        }
    )
    assert (got["title"], got["language"]) == ("Head", "fr")
    assert (got["recommendation"], got["tags"], got["is_spoiler"], got["is_preliminary"]) == (
        None,
        [],
        None,
        False,
    )
    assert (got["progress"], got["reactions"], got["helpful_count"], got["sub_scores"]) == (
        None,
        None,
        None,
        None,
    )
    named = one(
        {
            "@type": "Review",
            "name": "Name",
            "reviewBody": "a",
            "inLanguage": {"@type": "Language", "name": "French"},
        }
    )
    assert (named["title"], named["language"]) == ("Name", "French")


def test_same_review_twice_is_kept_once_where_first_met() -> None:
    first = {"@type": "Review", "author": "A", "datePublished": "2020-01-01", "reviewBody": "Same."}
    again = dict(first, reviewBody="Same.\n", reviewRating={"ratingValue": 5})
    by_id = {"@type": "Review", "@id": "https://s.example/r/7", "reviewBody": "Seven"}
    other = {"@type": "Review", "author": "B", "reviewBody": "Different."}
    body = page(
        {"@type": "Product", "name": "Lamp", "review": [first, by_id, other]},
        [again, dict(by_id, reviewBody="Seven again")],
    )
    parsed = parser.parse(body, URL)
    assert [r.text for r in parsed.reviews] == ["Same.", "Seven", "Different."]
    assert parsed.block_count == 3
    assert parsed.reviews[0].rating is None  # the first copy is kept, not the later one


# --- microdata -------------------------------------------------------------------------------


MICRO_REVIEW = (
    '<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Lamp</span>'
    '<div itemprop="review" itemscope itemtype="https://schema.org/Review">'
    '<span itemprop="author" itemscope itemtype="https://schema.org/Person">'
    '<span itemprop="name">Kim</span></span>'
    '<meta itemprop="datePublished" content="2021-05-06">'
    '<p itemprop="reviewBody">Good lamp.<br>Bright.</p></div></div>'
)


def test_microdata_only_without_json_ld_reviews() -> None:
    parsed = parser.parse(page({"@type": "Organization", "name": "Shop"}, body=MICRO_REVIEW), URL)
    assert parsed.kind == "microdata"
    (review,) = [r.to_dict() for r in parsed.reviews]
    assert (review["author"]["name"], review["text"], review["published_at"]) == (
        "Kim",
        "Good lamp.\nBright.",
        "2021-05-06",
    )
    assert review["subject"] == {"type": "product", "id": "Lamp", "title": "Lamp", "url": None}
    # The same review in JSON-LD gets the same id.
    json_ld = one(
        {
            "@type": "Review",
            "author": {"name": "Kim"},
            "datePublished": "2021-05-06",
            "reviewBody": "Good lamp.\nBright.",
        }
    )
    assert review["review_id"] == json_ld["review_id"]


def test_json_ld_review_wins_over_microdata() -> None:
    body = page({"@type": "Review", "author": "A", "reviewBody": "json"}, body=MICRO_REVIEW)
    parsed = parser.parse(body, URL)
    assert (parsed.kind, [r.text for r in parsed.reviews]) == ("jsonld", ["json"])


def test_microdata_nested_items_and_itemref() -> None:
    body = page(
        body='<div itemscope itemtype="http://schema.org/Review" itemref="extra" '
        'itemid="https://s.example/r/5"><div itemprop="itemReviewed" itemscope '
        'itemtype="http://schema.org/Movie"><span itemprop="name">Heat</span>'
        '<a itemprop="url" href="/films/heat">film</a></div>'
        '<div itemprop="reviewRating" itemscope itemtype="http://schema.org/Rating">'
        '<data itemprop="ratingValue" value="8">eight</data>'
        '<meter itemprop="bestRating" value="10"></meter></div></div>'
        '<p id="extra" itemprop="reviewBody">Tense.<a href="#" class="m">Read more</a></p>'
    )
    (review,) = reviews_of(body)
    assert review["review_id"] == "https://s.example/r/5"
    assert review["url"] == "https://s.example/r/5"
    assert review["subject"] == {
        "type": "film",
        "id": "https://shop.example/films/heat",
        "title": "Heat",
        "url": "https://shop.example/films/heat",
    }
    assert (review["rating"], review["rating_scale"], review["text"]) == (8, 10, "Tense.")
    assert review["title"] is None  # the film's name is not the review's


def test_rdfa_is_not_read() -> None:
    body = page(
        body='<div vocab="https://schema.org/" typeof="Review"><span property="author">A</span>'
        '<p property="reviewBody">RDFa text</p></div>'
    )
    assert parser.parse(body, URL).kind == "no_reviews"


def test_microdata_page_sent_as_latin1_reads_the_same() -> None:
    name = "restaurant-microdata.html"
    utf8 = (PAGES / name).read_bytes()
    latin = (
        utf8.replace(b'charset="utf-8"', b'charset="iso-8859-1"')
        .decode()
        .encode("cp1252", "xmlcharrefreplace")
    )
    got = [r.to_dict() for r in parser.parse(latin, PAGE_URLS[name]).reviews]
    assert got == [r.to_dict() for r in parse_page(name).reviews]
    assert got[0]["subject"]["title"] == "Osaka Noodle Bar"


def test_json_ld_page_sent_as_latin1_reads_the_same() -> None:
    name = "book-reviews-plural.html"
    latin = (PAGES / name).read_bytes().decode().encode("cp1252", "xmlcharrefreplace")
    got = [r.to_dict() for r in parser.parse(latin, PAGE_URLS[name]).reviews]
    assert got == [r.to_dict() for r in parse_page(name).reviews]
    assert "Ai’s" in got[0]["text"]


# --- bad input -------------------------------------------------------------------------------


def refused(body: bytes, url: str = URL) -> PageError:
    with pytest.raises(PageError) as caught:
        parser.parse(body, url)
    assert caught.value.where == url
    assert str(caught.value).startswith(f"{url}: ")
    return caught.value


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page (0 bytes)"),
        (b" \r\n\t", "empty page (4 bytes)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "not an HTML page"),
        (b'{"@type": "Review", "reviewBody": "<b>x</b>"}', "not an HTML page"),
        (b'[{"@type": "Review"}]', "not an HTML page"),
        (b"Just words < and more words", "not an HTML page"),
        (b"%PDF-1.7\n<< /Type /Catalog >>", "not an HTML page"),
    ],
    ids=["empty", "whitespace", "png", "json", "json-array", "plain-text", "pdf"],
)
def test_not_an_html_page(body: bytes, reason: str) -> None:
    assert refused(body).reason.startswith(reason)


@pytest.mark.parametrize("name", sorted(PAGE_URLS))
def test_page_cut_in_half_is_refused(name: str) -> None:
    body = (PAGES / name).read_bytes()
    error = refused(body[: len(body) // 2], PAGE_URLS[name])
    assert error.reason.startswith("page is cut short")


def test_page_cut_inside_a_json_ld_block_is_refused() -> None:
    body = (PAGES / "product-graph.html").read_bytes()
    cut = body[: body.index(b'"Dev Patel"')]
    assert refused(cut).reason.startswith("page is cut short")


@pytest.mark.parametrize(
    "title",
    ["Just a moment...", "Attention Required! | Cloudflare"],
)
def test_challenge_page_is_refused(title: str) -> None:
    body = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        '<div id="challenge-stage">Checking your browser before accessing shop.example.</div>'
        '<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script>'
        "</body></html>"
    ).encode()
    assert refused(body).reason.startswith("a bot challenge or block page")


def test_cloudflare_script_on_a_real_page_is_no_challenge() -> None:
    body = page(
        {"@type": "Review", "author": "A", "reviewBody": "fine"},
        body='<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>',
    )
    assert [r["text"] for r in reviews_of(body)] == ["fine"]


def test_only_block_malformed_with_a_review_type_is_refused() -> None:
    body = page('{"@type": "Review", "author": "A "quoted"", "reviewBody": "x"}')
    error = refused(body)
    assert error.reason.startswith("JSON-LD block 1: not JSON (Expecting ',' delimiter")
    assert "names a Review type" in error.reason


def test_malformed_block_without_reviews_is_no_error() -> None:
    body = page('{"@type": "BreadcrumbList", "name": "A "quoted""}', {"@type": "WebSite"})
    parsed = parser.parse(body, URL)
    assert (parsed.kind, parsed.reviews) == ("no_reviews", [])


def test_malformed_json_ld_review_is_not_replaced_by_its_microdata_copy() -> None:
    """The microdata copy of a page's reviews may be cut short ("Read more"): no substitute."""
    body = page('{"@type": "Review", "author": "A "quoted""}', body=MICRO_REVIEW)
    assert "names a Review type" in refused(body).reason


def test_page_without_schema_org_data_has_no_reviews() -> None:
    parsed = parser.parse(b"<html><body><p>Hello</p></body></html>", URL)
    assert (parsed.kind, parsed.reviews, parsed.block_count, parsed.next_url) == (
        "no_reviews",
        [],
        0,
        None,
    )


def test_deep_markup_around_json_ld_is_read_whole() -> None:
    deep = "<div>" * 3000 + "x" + "</div>" * 3000
    body = page({"@type": "Review", "author": "A", "reviewBody": "deep"}, body=deep)
    assert [r["text"] for r in reviews_of(body)] == ["deep"]


def test_microdata_beyond_the_parsers_depth_is_refused() -> None:
    body = page(body="<div>" * 3000 + MICRO_REVIEW + "</div>" * 3000)
    assert refused(body).reason.startswith("the page's markup is nested deeper")


def test_microdata_deeper_than_libxml2s_default_is_read() -> None:
    body = page(body="<div>" * 400 + MICRO_REVIEW + "</div>" * 400)
    assert [r["text"] for r in reviews_of(body)] == ["Good lamp.\nBright."]


def test_deeply_nested_json_is_a_broken_block() -> None:
    nested = '{"@type": "Review", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert refused(page(nested)).reason.startswith("JSON-LD block 1: nested too deeply")
    ok = page(nested, {"@type": "Review", "author": "A", "reviewBody": "still read"})
    assert [r["text"] for r in reviews_of(ok)] == ["still read"]


def test_bad_urls_in_the_data_do_not_break_the_page() -> None:
    got = one(
        {
            "@type": "Review",
            "@id": "//[bad",
            "url": "http://[bad",
            "reviewBody": "a",
            "author": {"name": "A", "url": "//[x"},
        }
    )
    assert (got["review_id"], got["url"]) == ("http://[bad", "http://[bad")
    assert got["author"] == {"name": "A", "url": None}
