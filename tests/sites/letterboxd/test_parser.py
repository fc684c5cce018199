"""The Letterboxd parser and feeds: paging, each field rule, cut reviews and their full texts,
the site declaration.

The saved list pages are compared with their `.expected.jsonl` by
`tests/sites/test_saved_pages.py`; here they are also edited (a spoiler notice, no stars, a
comment count with a comma, a list and a heading in the text...) to give each rule a case the
captures do not have. Bad input is `test_robustness.py`.
"""

from __future__ import annotations

import pytest

from reviewhoard.items import Review
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage, TextCompletion
from reviewhoard.sites import parse_page, site_for_url, site_named
from reviewhoard.sites.letterboxd import SITE, parser
from reviewhoard.sites.letterboxd.feeds import RATINGS, film_reviews_url, full_text_url, make_feeds
from reviewhoard.sites.site import Feed
from tests.conftest import fixtures_dir

NEWEST = "film-oppenheimer-2023-reviews-2026-07.html"
RATED5 = "film-oppenheimer-2023-reviews-rated5-p1-2026-07.html"
EMPTY = "film-oppenheimer-2023-reviews-rated5-p9999-empty-2026-07.html"
NEWEST_URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/"
RATED5_URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/rated/5/by/activity/"
EMPTY_URL = RATED5_URL + "page/9999/"
CUT_ID = "1401220676"
WHOLE_ID = "1401220529"
TRUNCATED_ON_NEWEST = ["1401220676", "1401220279", "1401218202", "1401202640", "1401215965"]


def saved(name: str) -> bytes:
    """A saved Letterboxd page, as captured."""
    return (fixtures_dir() / "letterboxd" / name).read_bytes()


def fragment(review_id: str) -> bytes:
    return saved(f"full-text-viewing-{review_id}.html")


def by_id(parsed: ParsedPage) -> dict[str, Review]:
    return {r.review_id: r for r in parsed.reviews}


def newest() -> ParsedPage:
    return parser.parse(saved(NEWEST), NEWEST_URL)


def edited(old: bytes, new: bytes, name: str = NEWEST) -> bytes:
    """The saved page with the first occurrence of `old` replaced (it must be there)."""
    body = saved(name)
    assert old in body
    return body.replace(old, new, 1)


# -- pages: kind, paging, counts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "url", "count", "next_url"),
    [
        (NEWEST, NEWEST_URL, 12, "https://letterboxd.com/film/oppenheimer-2023/reviews/page/2/"),
        (RATED5, RATED5_URL, 12, RATED5_URL + "page/2/"),
        (EMPTY, EMPTY_URL, 0, None),
    ],
    ids=["newest", "rated5", "past-the-end"],
)
def test_kind_counts_and_next_page(name: str, url: str, count: int, next_url: str | None) -> None:
    parsed = parser.parse(saved(name), url)
    assert parsed.kind == "film_reviews"
    assert parsed.block_count == count == len(parsed.reviews)
    assert parsed.next_url == next_url


def test_past_the_end_has_a_link_back_but_no_next() -> None:
    """The page past the end shows an empty list and a link back to page 9998: no next page."""
    body = saved(EMPTY)
    assert (
        b'class="previous" href="/film/oppenheimer-2023/reviews/rated/5/by/activity/page/9998/"'
        in body
    )
    parsed = parser.parse(body, EMPTY_URL)
    assert (parsed.reviews, parsed.next_url, parsed.block_count) == ([], None, 0)
    assert SITE.follow_ups(parsed) == []


def test_next_link_of_unknown_shape_is_refused() -> None:
    """A next link that cannot be read would end the walk early (and mark reviews gone)."""
    body = edited(
        b'<a class="next" href="/film/oppenheimer-2023/reviews/page/2/">',
        b'<a class="next" href="/film/oppenheimer-2023/reviews/?cursor=abc">',
    )
    with pytest.raises(PageError) as caught:
        parser.parse(body, NEWEST_URL)
    assert caught.value.reason.startswith("the next-page link '/film/oppenheimer-2023/reviews/?")
    assert caught.value.where == NEWEST_URL


def test_next_link_keeps_any_filters_of_the_list() -> None:
    body = edited(
        b'<a class="next" href="/film/oppenheimer-2023/reviews/page/2/">',
        b'<a class="next" href="/film/oppenheimer-2023/reviews/rated/3-4.5/by/entry-rating/'
        b'page/2/">',
    )
    assert parser.parse(body, NEWEST_URL).next_url == (
        "https://letterboxd.com/film/oppenheimer-2023/reviews/rated/3-4.5/by/entry-rating/page/2/"
    )


def test_registry_finds_the_site() -> None:
    assert site_for_url(NEWEST_URL) is SITE
    assert site_named("LB") is SITE
    parsed = parse_page(saved(NEWEST), NEWEST_URL)
    assert [r.review_id for r in parsed.reviews][:2] == ["1401135796", "1401221069"]


# -- fields -------------------------------------------------------------------------------------


def test_subject_is_the_numeric_film_id_with_title_and_url() -> None:
    for review in newest().reviews:
        assert review.subject.type == "film"
        assert review.subject.id == "784328"
        assert review.subject.title == "Oppenheimer"
        assert review.subject.url == "https://letterboxd.com/film/oppenheimer-2023/"


def test_username_not_display_name() -> None:
    reviews = by_id(newest())
    cut = reviews[CUT_ID]
    assert cut.author.name == "ithrmal"
    assert cut.author.url == "https://letterboxd.com/ithrmal/"
    assert cut.extra["display_name"] == "dylan"
    assert cut.url == "https://letterboxd.com/ithrmal/film/oppenheimer-2023/"
    first = reviews["1401135796"]
    assert (first.author.name, first.extra["display_name"]) == ("eugeniobegato", "Eugenio Beggy")
    assert first.url == "https://letterboxd.com/eugeniobegato/film/oppenheimer-2023/6/"


def test_half_stars_liked_and_rewatch() -> None:
    reviews = by_id(newest())
    got = {rid: (r.rating, r.rating_scale, r.tags) for rid, r in reviews.items()}
    assert got["1401135796"] == (5, 5, ["liked", "rewatch"])
    assert got["1401221069"] == (4, 5, ["rewatch"])
    assert got[CUT_ID] == (4.5, 5, ["liked", "rewatch"])
    assert got[WHOLE_ID] == (2, 5, [])
    assert got["1401218202"] == (3.5, 5, [])
    assert got["1401215965"] == (1, 5, [])
    assert got["1401216020"] == (4.5, 5, ["liked"])


@pytest.mark.parametrize(
    ("label", "rating"),
    [
        ("★★★★★", 5),
        ("★★★½", 3.5),
        ("★", 1),
        ("½", 0.5),
        (" ★★ ", 2),
        ("", None),
        ("★★★★★★", None),
        ("★★★★★½", None),
        ("★½★", None),
        ("3.5 stars", None),
    ],
)
def test_star_label(label: str, rating: float | None) -> None:
    assert parser._rating(label) == rating


def test_no_star_glyph_is_no_rating() -> None:
    body = edited(
        b'aria-label="\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85">', b">"
    )
    body = body.replace(b'class="glyph -rating"', b'class="glyph"', 1)
    review = parser.parse(body, NEWEST_URL).reviews[0]
    assert (review.review_id, review.rating, review.rating_scale) == ("1401135796", None, 5)


def test_unreadable_star_label_is_refused() -> None:
    body = edited(
        b'aria-label="\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85">',
        b'aria-label="five">',
    )
    with pytest.raises(PageError) as caught:
        parser.parse(body, NEWEST_URL)
    assert caught.value.reason.startswith("review 1401135796 has no readable star rating")


def test_published_at_is_the_date_part_never_localised() -> None:
    reviews = by_id(newest())
    assert reviews["1401135796"].published_at == "2026-07-17"
    assert reviews["1401220279"].published_at == "2026-07-18"
    body = edited(b'datetime="2026-07-17"', b'datetime="2026-07-16T23:30:00.000Z"')
    assert parser.parse(body, NEWEST_URL).reviews[0].published_at == "2026-07-16"


def test_likes_and_comments() -> None:
    parsed = parser.parse(saved(RATED5), RATED5_URL)
    reactions = {r.review_id: r.reactions for r in parsed.reviews}
    assert reactions["412989206"] == {"likes": 30636, "comments": 28}
    assert reactions["415945755"] == {"likes": 7985, "comments": 152}
    # no comments link: 0 comments, both keys always there
    assert all(r.reactions == {"likes": 0, "comments": 0} for r in newest().reviews)


def test_comment_count_with_a_thousands_comma() -> None:
    body = edited(b'<span class="label">28</span>', b'<span class="label">1,234</span>', RATED5)
    assert parser.parse(body, RATED5_URL).reviews[0].reactions == {"likes": 30636, "comments": 1234}


def test_unreadable_comment_count_is_refused() -> None:
    body = edited(b'<span class="label">28</span>', b'<span class="label">1.2K</span>', RATED5)
    with pytest.raises(PageError) as caught:
        parser.parse(body, RATED5_URL)
    assert caught.value.reason.startswith("review 412989206 has no readable comment count ('1.2K')")


def test_spoiler_notice() -> None:
    """The notice sits before the body; it marks the review and never enters its text."""
    notice = (
        b'<p class="body-text -prose -reset js-spoiler-container">This review may contain '
        b'spoilers. <a href="#" class="reveal js-reveal" data-js-trigger="spoiler.reveal">'
        b"I can handle the truth.</a></p>"
    )
    old_notice = b'<p class="contains-spoilers">This review may contain spoilers.</p>'
    for marker in (notice, old_notice):
        body = edited(b'<div class="js-review " >', b'<div class="js-review " >' + marker)
        reviews = parser.parse(body, NEWEST_URL).reviews
        assert reviews[0].is_spoiler is True
        assert reviews[0].text.startswith("L'aspettativa su cosa")
        assert "spoilers" not in reviews[0].text and "truth" not in reviews[0].text
        assert [r.is_spoiler for r in reviews[1:]] == [False] * 11


def test_paragraphs_lists_headings_breaks_and_no_break_spaces() -> None:
    text = (
        "<p>Oppenheimer (2023)</p><blockquote><p>a quote</p></blockquote><h3>Heading</h3>"
        "<ul><li>one</li><li>two</li></ul><p>line<br />next&nbsp; line <b>bold</b> "
        "&lt;3 &amp; more</p><div>last</div>"
    )
    body = edited(
        b"<p>Oppenheimer (2023)</p><p>A briskly paced",
        text.encode() + b"<p>A briskly paced",
    )
    review = by_id(parser.parse(body, NEWEST_URL))["1401221069"]
    assert review.text.startswith(
        "Oppenheimer (2023)\n\na quote\n\nHeading\n\none\n\ntwo\n\nline\nnext line bold <3 & more"
        "\n\nlast\n\nA briskly paced"
    )


def test_furniture_never_in_text() -> None:
    for name, url in ((NEWEST, NEWEST_URL), (RATED5, RATED5_URL)):
        for review in parser.parse(saved(name), url).reviews:
            for furniture in (
                "Translate",
                "Translated from",
                "Watched by",
                "Rewatched by",
                "Liked",
            ):
                assert furniture not in review.text
            assert not review.text.endswith("…")
            assert review.extra["display_name"] not in ("", None)


# -- cut reviews and their whole texts ----------------------------------------------------------


def test_cut_reviews_are_marked_and_lose_the_ellipsis() -> None:
    parsed = newest()
    assert [r.review_id for r in parsed.reviews if r.extra["text_truncated"]] == TRUNCATED_ON_NEWEST
    assert all(isinstance(r.extra["text_truncated"], bool) for r in parsed.reviews)
    cut = by_id(parsed)[CUT_ID]
    assert cut.text.endswith("but Nolan knows how to depict this story")
    assert "…" not in cut.text
    assert by_id(parsed)["1401215965"].text.endswith(
        "label themselves as “intellectuals” and bite the"
    )


def test_follow_ups_are_the_full_texts_of_exactly_the_cut_reviews() -> None:
    assert SITE.follow_ups(newest()) == [
        f"https://letterboxd.com/s/full-text/viewing:{rid}/" for rid in TRUNCATED_ON_NEWEST
    ]
    rated = parser.parse(saved(RATED5), RATED5_URL)
    assert SITE.follow_ups(rated) == ["https://letterboxd.com/s/full-text/viewing:418781291/"]


def test_full_text_completes_the_cut_review() -> None:
    cut = by_id(newest())[CUT_ID]
    completions = SITE.read_follow_up(fragment(CUT_ID), full_text_url(CUT_ID))
    assert completions == [
        TextCompletion(site="letterboxd", review_id=CUT_ID, text=completions[0].text)
    ]
    whole = completions[0].text
    assert whole.startswith(cut.text)
    assert len(whole) > len(cut.text) + 1000
    assert whole.startswith("This is way better than I remember it being.\n\nOppenheimer is huge")
    assert "but Nolan knows how to depict this story and the importance of it" in whole
    assert whole.endswith("I don’t know how this works so well.")
    assert whole.count("\n\n") == 4


def test_full_text_of_a_whole_review_equals_the_list_text() -> None:
    listed = by_id(newest())[WHOLE_ID]
    assert listed.extra["text_truncated"] is False
    completion = parser.parse_full_text(fragment(WHOLE_ID), full_text_url(WHOLE_ID))
    assert completion == [TextCompletion("letterboxd", WHOLE_ID, listed.text)]


@pytest.mark.parametrize("url", [full_text_url(CUT_ID), NEWEST_URL], ids=["own-url", "list-url"])
def test_list_parser_refuses_a_fragment(url: str) -> None:
    with pytest.raises(PageError) as caught:
        parser.parse(fragment(CUT_ID), url)
    assert caught.value.reason.startswith("a full-text fragment is not a review page")
    assert caught.value.where == url


def test_full_text_reader_refuses_what_is_no_fragment() -> None:
    url = full_text_url(CUT_ID)
    cases = [
        (saved(NEWEST), url, "not a full-text fragment"),
        (fragment(CUT_ID), NEWEST_URL, "not a full-text address"),
        (fragment(CUT_ID)[: len(fragment(CUT_ID)) // 2], url, "full-text fragment is cut short"),
        (b"", url, "empty page (0 bytes)"),
        (b'{"text": "x"}', url, "not an HTML page"),
        (b"<p>  </p>", url, "full-text fragment holds no text"),
    ]
    for body, where, reason in cases:
        with pytest.raises(PageError) as caught:
            parser.parse_full_text(body, where)
        assert caught.value.reason.startswith(reason), (reason, caught.value.reason)
        assert caught.value.where == where


# -- feeds and the site ------------------------------------------------------------------------


def test_one_walkable_feed_per_film_for_the_plain_list() -> None:
    feeds = make_feeds({"film": ["oppenheimer-2023", "past-lives"]})
    assert feeds == [
        Feed(
            key="film:oppenheimer-2023",
            start_url="https://letterboxd.com/film/oppenheimer-2023/reviews/",
            subject_type="film",
            subject_id="oppenheimer-2023",
            walkable=True,
        ),
        Feed(
            key="film:past-lives",
            start_url="https://letterboxd.com/film/past-lives/reviews/",
            subject_type="film",
            subject_id="past-lives",
            walkable=True,
        ),
    ]
    assert make_feeds({"film": ["oppenheimer-2023"], "sort": ["newest"]}) == feeds[:1]


@pytest.mark.parametrize(
    ("sort", "rated", "key", "url"),
    [
        ("popular", "5", "film:dune/rated/5/by/activity", "reviews/rated/5/by/activity/"),
        ("popular", None, "film:dune/by/activity", "reviews/by/activity/"),
        ("newest", "4.5", "film:dune/rated/4.5", "reviews/rated/4.5/"),
        (None, "none", "film:dune/rated/none", "reviews/rated/none/"),
        (None, "0.5", "film:dune/rated/0.5", "reviews/rated/0.5/"),
    ],
)
def test_filtered_feeds_are_not_walkable(
    sort: str | None, rated: str | None, key: str, url: str
) -> None:
    args = (
        {"film": ["dune"]}
        | ({"sort": [sort]} if sort else {})
        | ({"rated": [rated]} if rated else {})
    )
    (feed,) = make_feeds(args)
    assert (feed.key, feed.start_url) == (key, f"https://letterboxd.com/film/dune/{url}")
    assert (feed.subject_type, feed.subject_id, feed.walkable) == ("film", "dune", False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"film": ["Oppenheimer 2023"]}, "film slugs are lowercase letters"),
        ({"film": ["https://letterboxd.com/film/dune/"]}, "film slugs are lowercase letters"),
        ({"film": ["dune/reviews"]}, "film slugs are lowercase letters"),
        ({"film": ["-dune"]}, "film slugs are lowercase letters"),
        ({"film": [""]}, "film slugs are lowercase letters"),
        ({"film": ["dune"], "sort": ["oldest"]}, "sort is one of newest, popular, not 'oldest'"),
        ({"film": ["dune"], "rated": ["6"]}, "rated is one of 0.5, 1, 1.5"),
        ({"film": ["dune"], "rated": ["4.25"]}, "rated is one of"),
        ({"film": ["dune"], "rated": ["0"]}, "rated is one of"),
        ({"film": ["dune"], "sort": ["newest", "popular"]}, "sort takes one value, not 2"),
    ],
)
def test_bad_feed_values(args: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        make_feeds(args)


def test_ratings_are_half_stars_and_none() -> None:
    assert RATINGS == ("0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5", "none")
    options = {o.name: o for o in SITE.options}
    assert list(options) == ["film", "sort", "rated"]
    assert options["sort"].choices == ("newest", "popular")
    assert options["rated"].choices == RATINGS


def test_next_page_keeps_the_feeds_filters() -> None:
    (plain,) = make_feeds({"film": ["oppenheimer-2023"]})
    (popular,) = make_feeds({"film": ["oppenheimer-2023"], "sort": ["popular"], "rated": ["5"]})
    assert popular.start_url == RATED5_URL
    assert SITE.next_page(plain, newest(), 1) == NEWEST_URL + "page/2/"
    rated = parser.parse(saved(RATED5), RATED5_URL)
    assert SITE.next_page(popular, rated, 1) == RATED5_URL + "page/2/"
    assert SITE.next_page(popular, parser.parse(saved(EMPTY), EMPTY_URL), 9999) is None
    assert film_reviews_url("dune", "5", "popular", 3) == (
        "https://letterboxd.com/film/dune/reviews/rated/5/by/activity/page/3/"
    )


def test_site_declaration() -> None:
    assert (SITE.key, SITE.name, SITE.base_url) == (
        "letterboxd",
        "Letterboxd",
        "https://letterboxd.com",
    )
    assert SITE.subject_types == ("film",)
    assert SITE.serves("letterboxd.com") and SITE.serves("www.letterboxd.com")
    assert SITE.policy.min_delay == 2.0
    assert SITE.policy.terms_forbid_crawling == (
        "Letterboxd's terms of use forbid automated collection (since December 2025) and it "
        "answers crawlers with Cloudflare challenges"
    )
    assert SITE.bench_baseline == "lxml"
    assert SITE.read_follow_up is parser.parse_full_text
    assert SITE.parser.PARSER_VERSION == "1"
    folder = fixtures_dir() / "letterboxd"
    assert sorted(SITE.saved_pages) == sorted(p.name for p in folder.glob("*.html"))
    assert SITE.url_of_saved_page("full-text-viewing-42.html") == (
        "https://letterboxd.com/s/full-text/viewing:42/"
    )
    assert SITE.url_of_saved_page("something-else.html") is None
