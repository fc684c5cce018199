"""Bad input to the MyAnimeList parser: correct reviews or one clear PageError, nothing else.

Never a traceback, never a partial review: an empty file, a page cut short, bytes that are not
HTML, Latin-1 or a wrong charset, a 10 MB page, a block without its rating or text, and (with
Hypothesis) real pages mutated at random.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.myanimelist import parser as myanimelist
from tests.sites.mutations import mutated

TAB_URL = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
EXCERPT_URL = "https://myanimelist.net/manga/121496/Solo_Leveling/reviews"


def page(mal_fixtures: Path, name: str) -> bytes:
    return (mal_fixtures / name).read_bytes()


def whole(mal_fixtures: Path) -> list[dict[str, object]]:
    """The 2022 tab parsed from its real bytes: what every still-readable variant must give."""
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    return [r.to_dict() for r in myanimelist.parse(body, TAB_URL).reviews]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page (0 bytes): fetch it again"),
        (b" \r\n\t", "empty page (4 bytes): fetch it again"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "not an HTML page"),
        (b'{"reviews": [1, 2, 3]}', "not an HTML page (no markup in its first 4 KB)"),
        (b"Just words < and more words", "not a MyAnimeList page"),
        (
            b"<html><body><p>Some forum thread on myanimelist</p></body></html>",
            "no review blocks on a reviews_tab page and no 'no reviews' notice",
        ),
    ],
    ids=["empty", "whitespace", "png", "json", "plain-text", "unknown-markup"],
)
def test_not_a_review_page(body: bytes, reason: str) -> None:
    with pytest.raises(PageError) as caught:
        myanimelist.parse(body, TAB_URL)
    assert caught.value.reason.startswith(reason)
    assert caught.value.where == TAB_URL
    assert str(caught.value).startswith(f"{TAB_URL}: ")


@pytest.mark.parametrize(
    "name", ["anime-1-reviews-2022-10.html", "anime-1-reviews-2018-12-old.html"]
)
def test_page_cut_at_half_is_refused(mal_fixtures: Path, name: str) -> None:
    body = page(mal_fixtures, name)
    with pytest.raises(PageError, match=r"page is cut short .*fetch it again"):
        myanimelist.parse(body[: len(body) // 2], TAB_URL)


def test_cut_excerpt_keeps_only_whole_reviews(mal_fixtures: Path) -> None:
    """A fragment (no <html>) cut anywhere gives only reviews whose every part is present."""
    body = page(mal_fixtures, "manga-121496-reviews-excerpt-2026-07.html")
    full = [r.to_dict() for r in myanimelist.parse(body, EXCERPT_URL).reviews]
    assert len(full) == 2
    outcomes: set[str | int] = set()
    for cut in range(200, len(body), 211):
        try:
            got = [r.to_dict() for r in myanimelist.parse(body[:cut], EXCERPT_URL).reviews]
        except PageError as exc:
            assert exc.reason.startswith(
                ("current layout", "review blocks are nested", "no review")
            )
            outcomes.add("error")
            continue
        assert got == full[: len(got)]
        outcomes.add(len(got))
    assert {"error", 1} <= outcomes


def test_latin1_bytes_give_the_same_reviews(mal_fixtures: Path) -> None:
    """The same page sent as cp1252 (what servers call Latin-1) reads the same where cp1252 can
    hold the characters; no crash where it cannot."""
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    latin = body.decode("utf-8").encode("cp1252", errors="replace")
    got = [r.to_dict() for r in myanimelist.parse(latin, TAB_URL).reviews]
    want = whole(mal_fixtures)
    assert [g["review_id"] for g in got] == [w["review_id"] for w in want]
    same = [
        g["text"] == w["text"]
        for g, w in zip(got, want, strict=True)
        if str(w["text"]).encode("cp1252", errors="ignore").decode("cp1252") == w["text"]
    ]
    assert len(same) >= 15 and all(same)
    assert "Ed’s a girl" in str(got[0]["text"])


@pytest.mark.parametrize(
    "declaration",
    [
        b'<meta charset="iso-8859-1">',
        b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
        b'<meta charset="no-such-charset">',
    ],
)
def test_wrong_declared_charset_does_not_mangle_utf8(
    mal_fixtures: Path, declaration: bytes
) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html").replace(
        b"<head>", b"<head>" + declaration, 1
    )
    assert [r.to_dict() for r in myanimelist.parse(body, TAB_URL).reviews] == whole(mal_fixtures)


def test_byte_order_mark_and_xml_declaration(mal_fixtures: Path) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    marked = b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="iso-8859-1"?>' + body
    assert [r.to_dict() for r in myanimelist.parse(marked, TAB_URL).reviews] == whole(mal_fixtures)


def test_ten_megabyte_page(mal_fixtures: Path) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    filler = b"<div class='ad'>" + b"<p>sponsored filler text</p>" * 360_000 + b"</div>"
    big = body.replace(b"</body>", filler + b"</body>", 1)
    assert len(big) > 10_000_000
    assert [r.to_dict() for r in myanimelist.parse(big, TAB_URL).reviews] == whole(mal_fixtures)


def _without(body: bytes, start_marker: bytes, end_marker: bytes) -> bytes:
    """The body with the first element from start_marker up to (not including) end_marker."""
    start = body.index(start_marker)
    end = body.index(end_marker, start)
    return body[:start] + body[end:]


@pytest.mark.parametrize(
    ("cut_from", "cut_to", "reason"),
    [
        (
            b'<div class="rating mt20',
            b'<div class="notice',
            "current layout: review 7406 has no rating (div.rating span.num); nothing from it was "
            "kept",
        ),
        (
            b'<div class="text">',
            b'<div class="rating mt20',
            "current layout: review 7406 has no text (div.text); nothing from it was kept",
        ),
        (
            b'<div class="reaction-box',
            b'<div class="review-element',
            "review blocks are nested in one another",
        ),
    ],
    ids=["rating", "text", "unclosed-block"],
)
def test_block_missing_a_part_fails_the_page(
    mal_fixtures: Path, cut_from: bytes, cut_to: bytes, reason: str
) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    with pytest.raises(PageError) as caught:
        myanimelist.parse(_without(body, cut_from, cut_to), TAB_URL)
    assert caught.value.reason.startswith(reason)


def test_old_block_missing_rating_fails_the_page(mal_fixtures: Path) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2018-12-old.html")
    broken = body.replace(b"Overall Rating</a>:\n        10", b"</a>", 1)
    with pytest.raises(PageError) as caught:
        myanimelist.parse(broken, TAB_URL)
    assert caught.value.reason == (
        "old layout: review 7406 has no rating ('Overall Rating: N'); nothing from it was kept"
    )


def test_author_link_in_text_does_not_change_the_review_id(mal_fixtures: Path) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    linked = body.replace(
        b"People who know me",
        b'<a href="https://myanimelist.net/reviews.php?id=999">see this</a> People who know me',
        1,
    )
    first = myanimelist.parse(linked, TAB_URL).reviews[0]
    assert first.review_id == "7406"
    assert first.text.startswith("see this People who know me")


SMALL_PAGES = (
    ("manga-121496-reviews-excerpt-2026-07.html", EXCERPT_URL),
    ("anime-11757-main-2016-12-old.html", "https://myanimelist.net/anime/11757/Sword_Art_Online"),
)


@pytest.mark.parametrize(("name", "url"), SMALL_PAGES, ids=["current", "old-2016"])
def test_mutated_pages_raise_only_page_error(mal_fixtures: Path, name: str, url: str) -> None:
    original = page(mal_fixtures, name)

    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(original))
    def check(body: bytes) -> None:
        try:
            parsed = myanimelist.parse(body, url)
        except PageError as exc:
            assert exc.reason and exc.where == url
            return
        for review in parsed.reviews:
            data = review.to_dict()
            assert data["review_id"].isdigit()
            assert data["text"] and data["author"]["name"]
            assert data["rating"] is not None and 0 <= data["rating"] <= 10

    check()


def test_block_without_review_id_fails_the_page(mal_fixtures: Path) -> None:
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    anonymous = body.replace(b'data-id="7406"', b'data-x="7406"').replace(
        b"reviews.php?id=7406", b"reviews.php?x=7406"
    )
    with pytest.raises(PageError) as caught:
        myanimelist.parse(anonymous, TAB_URL)
    assert caught.value.reason.startswith("current layout: a review block has no review id")


def test_old_preliminary_marker_is_not_a_word_in_a_name(mal_fixtures: Path) -> None:
    """Review 7406 is not preliminary; an author renamed "Preliminary" does not make it one."""
    body = page(mal_fixtures, "anime-1-reviews-2018-12-old.html")
    renamed = body.replace(
        b'<a href="https://myanimelist.net/profile/TheLlama">TheLlama</a>',
        b'<a href="https://myanimelist.net/profile/Preliminary">Preliminary</a>',
        1,
    )
    first = myanimelist.parse(renamed, TAB_URL).reviews[0]
    assert (first.review_id, first.author.name) == ("7406", "Preliminary")
    assert (first.is_preliminary, first.tags) == (False, [])


@pytest.mark.parametrize(("depth", "readable"), [(300, True), (2100, False)])
def test_deep_nesting_is_read_whole_or_refused(mal_fixtures: Path, depth: int, readable: bool):
    """libxml2 stops at depth 256 by default and the rest of the page is lost: 300 nested
    <div>s between two review blocks must still give all 20 reviews, and a page past the
    parser's raised limit (2048) is refused, never half-read (a full crawl would then mark
    the unread reviews gone)."""
    body = page(mal_fixtures, "anime-1-reviews-2022-10.html")
    at = [m.start() for m in re.finditer(rb'<div class="review-element', body)][10]
    deep = body[:at] + b"<div>" * depth + b"x" + b"</div>" * depth + body[at:]
    if readable:
        assert [r.to_dict() for r in myanimelist.parse(deep, TAB_URL).reviews] == whole(
            mal_fixtures
        )
    else:
        with pytest.raises(PageError, match="nests elements deeper than the HTML parser reads"):
            myanimelist.parse(deep, TAB_URL)
