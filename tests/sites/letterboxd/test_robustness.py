"""Bad input to the Letterboxd parser: correct reviews or one clear PageError, nothing else.

An empty file, bytes that are not HTML, a page cut in half, a Cloudflare challenge, a page
without its film id, blocks whose ids disagree or that lack a part, nesting deeper than libxml2
follows, other encodings, and (with Hypothesis) real pages mutated at random.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.letterboxd import parser
from reviewhoard.sites.letterboxd.feeds import full_text_url
from tests.conftest import fixtures_dir
from tests.sites.mutations import HTML_JUNK, mutated

NEWEST = "film-oppenheimer-2023-reviews-2026-07.html"
RATED5 = "film-oppenheimer-2023-reviews-rated5-p1-2026-07.html"
EMPTY = "film-oppenheimer-2023-reviews-rated5-p9999-empty-2026-07.html"
URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/"
RATED5_URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/rated/5/by/activity/"
CUT_ID = "1401220676"

CHALLENGE = b"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head>
<body class="no-js"><div class="main-wrapper" role="main"><div class="main-content">
<noscript><div id="challenge-error-title"><div class="h2"><span id="challenge-error-text">
Enable JavaScript and cookies to continue</span></div></div></noscript></div></div>
<script>(function(){window._cf_chl_opt={cvId: '3',cZone: "letterboxd.com",cType: 'managed'};
var cpo=document.createElement('script');
cpo.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8f00000000000000';
document.getElementsByTagName('head')[0].appendChild(cpo);}());</script></body></html>
"""
"""A small Cloudflare managed challenge, as Cloudflare serves it to a crawler."""
OLD_CHALLENGE = b"""<html><head><title>letterboxd.com</title></head><body>
<div id="cf-browser-verification" class="cf-im-under-attack"><h1>Checking your browser before
accessing letterboxd.com.</h1><form id="challenge-form"
action="/film/x/reviews/?__cf_chl_jschl_tk__=a" method="POST"></form></div></body></html>"""
"""The older "Checking your browser" interstitial: no telling title, only its markup."""
BLOCK_PAGE = b"""<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>
<body><div id="cf-wrapper"><div id="cf-error-details"><h1>Sorry, you have been blocked</h1>
</div></div></body></html>"""


def saved(name: str) -> bytes:
    return (fixtures_dir() / "letterboxd" / name).read_bytes()


def refused(body: bytes, url: str = URL) -> str:
    """The reason the list parser refuses `body` (it must, naming the URL)."""
    with pytest.raises(PageError) as caught:
        parser.parse(body, url)
    assert caught.value.where == url
    assert str(caught.value).startswith(f"{url}: ")
    return caught.value.reason


def edited(old: bytes, new: bytes, name: str = NEWEST, count: int = 1) -> bytes:
    body = saved(name)
    assert old in body
    return body.replace(old, new, count)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page (0 bytes): fetch it again"),
        (b" \r\n\t", "empty page (4 bytes): fetch it again"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, "not an HTML page"),
        (b'{"reviews": [1, 2, 3]}', "not an HTML page (no markup in its first 4 KB)"),
        (b"Just words < and more words", "no review list (div.viewing-list)"),
        (
            b"<html><body><p>A forum thread about letterboxd</p></body></html>",
            "no review list (div.viewing-list): not a Letterboxd film's review page",
        ),
    ],
    ids=["empty", "whitespace", "png", "json", "plain-text", "unknown-markup"],
)
def test_not_a_review_page(body: bytes, reason: str) -> None:
    assert refused(body).startswith(reason)


@pytest.mark.parametrize("name", [NEWEST, RATED5, EMPTY])
def test_page_cut_in_half_is_refused(name: str) -> None:
    body = saved(name)
    assert refused(body[: len(body) // 2]) == parser.CUT_REASON
    # cut before the list even starts: still "cut short", not "no list"
    assert refused(body[:20_000]) == parser.CUT_REASON


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (CHALLENGE, "a Cloudflare challenge ('Just a moment...')"),
        (CHALLENGE.replace(b"<title>Just a moment...</title>", b""), "a Cloudflare challenge page"),
        (OLD_CHALLENGE, "a Cloudflare challenge page"),
        (BLOCK_PAGE, "a Cloudflare block page ('Attention Required')"),
    ],
    ids=["just-a-moment", "challenge-markup", "old-interstitial", "block-page"],
)
def test_challenge_and_block_pages_are_blocked(body: bytes, what: str) -> None:
    reason = refused(body)
    assert reason.startswith(f"blocked: Letterboxd answered with {what} instead of the page")
    with pytest.raises(PageError) as caught:
        parser.parse_full_text(body, full_text_url(CUT_ID))
    assert caught.value.reason == reason


def test_a_film_called_just_a_moment_is_no_challenge() -> None:
    """Only a page without the review list is asked whether it is a challenge."""
    body = edited(
        b"<title>&lrm;Reviews of Oppenheimer (2023)", b"<title>Just a moment... Access Denied"
    )
    assert len(parser.parse(body, URL).reviews) == 12


def test_fragment_is_refused_as_a_list_page() -> None:
    body = saved(f"full-text-viewing-{CUT_ID}.html")
    assert refused(body).startswith("a full-text fragment is not a review page")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b'data-production-uid="film:784328"',
            b'data-production-uid="film:999"',
            "the page names several film ids (784328, 999)",
        ),
        (
            b'data-production-uid="film:784328"',
            b'data-production-uid="784328"',
            "the page's film id '784328' is not film:N",
        ),
    ],
    ids=["ids-disagree", "not-film-uid"],
)
def test_film_id_must_be_clear(old: bytes, new: bytes, reason: str) -> None:
    assert refused(edited(old, new)) == reason


def test_list_page_without_the_film_id_is_refused() -> None:
    body = saved(NEWEST)
    body = body.replace(b"data-production-uid=", b"data-x=").replace(
        b"data-postered-identifier=", b"data-y="
    )
    assert refused(body).startswith("the page does not name its film's id")
    empty = saved(EMPTY).replace(b"data-production-uid=", b"data-x=")
    empty = empty.replace(b"data-postered-identifier=", b"data-y=")
    assert refused(empty, RATED5_URL).startswith("the page does not name its film's id")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            b'data-full-text-url="/s/full-text/viewing:1401135796/"',
            b'data-full-text-url="/s/full-text/viewing:1401135797/"',
            "a review block names two viewing ids (1401135796 in its like button, 1401135797 in "
            "its full-text URL)",
        ),
        (
            b'data-full-text-url="/s/full-text/viewing:1401135796/"',
            b"",
            "a review block has no viewing id (data-full-text-url on its body)",
        ),
        (
            b'class="like-link-target react-component"',
            b'class="react-component"',
            "a review block has no viewing id (like button uid)",
        ),
        (
            b'<time class="timestamp" datetime="2026-07-17">',
            b'<time class="timestamp">',
            "review 1401135796 has no date (time.timestamp with a datetime)",
        ),
        (
            b'href="/eugeniobegato/film/oppenheimer-2023/6/" class="context"',
            b'href="/eugeniobegato/" class="context"',
            "review 1401135796 has no permalink (a.context to /USER/film/SLUG/)",
        ),
        (
            b'<a class="avatar -a40" href="/eugeniobegato/" >',
            b'<a class="avatar -a40" href="/someoneelse/" >',
            "review 1401135796 has no avatar link matching its permalink's user 'eugeniobegato'",
        ),
        (
            b'data-format="count" data-count="0" data-owner="Eugeniobegato"',
            b'data-format="count" data-owner="Eugeniobegato"',
            "review 1401135796 has no like count (data-count on its like button)",
        ),
        (
            b"</article> </div> <div",
            b"<div",
            "review blocks are nested in one another (unclosed markup)",
        ),
    ],
    ids=[
        "ids-disagree",
        "no-full-text-url",
        "no-like-button",
        "no-date",
        "no-permalink",
        "avatar-disagrees",
        "no-like-count",
        "unclosed-block",
    ],
)
def test_block_that_cannot_be_read_whole_fails_the_page(
    old: bytes, new: bytes, reason: str
) -> None:
    assert refused(edited(old, new)).startswith(reason)


def test_review_without_text_fails_the_page() -> None:
    body = saved(NEWEST)
    start = body.index(b"<p>L'aspettativa")
    end = body.index(b"</p>", start) + 4
    body = body[:start] + b"<p></p><p>&nbsp;</p> <br>" + body[end:]
    assert refused(body) == (
        "review 1401135796 has no text (div.js-review-body is empty); nothing from the page was "
        "kept"
    )


def test_nesting_deeper_than_libxml2_follows_is_refused() -> None:
    deep = b"<div>" * 2100 + b"deep" + b"</div>" * 2100
    body = edited(b"<p>L'aspettativa", deep + b"<p>L'aspettativa")
    assert refused(body).startswith("markup nested deeper than the HTML parser follows")
    fragment = b"<p>start</p>" + deep + b"<p>end</p>"
    with pytest.raises(PageError, match="nesting too deep"):
        parser.parse_full_text(fragment, full_text_url("1"))


def test_deep_but_readable_nesting_is_read() -> None:
    """Deeper than libxml2's default 256 levels, within what huge_tree follows: read whole."""
    deep = b"<div>" * 300 + b"deep" + b"</div>" * 300
    body = edited(b"<p>L'aspettativa", deep + b"<p>L'aspettativa")
    reviews = parser.parse(body, URL).reviews
    assert len(reviews) == 12
    assert reviews[0].text.startswith("deep\n\nL'aspettativa")


def test_other_encodings_give_the_same_reviews() -> None:
    """A BOM, or the page sent as cp1252 (characters cp1252 lacks as character references):
    the same reviews as the UTF-8 page."""
    body = saved(NEWEST)
    want = [r.to_dict() for r in parser.parse(body, URL).reviews]
    assert [r.to_dict() for r in parser.parse(b"\xef\xbb\xbf" + body, URL).reviews] == want
    cp1252 = body.decode("utf-8").encode("cp1252", errors="xmlcharrefreplace")
    assert b"\xe8 annientata" in cp1252  # not UTF-8 any more
    assert [r.to_dict() for r in parser.parse(cp1252, URL).reviews] == want


def test_mutated_list_pages_raise_only_page_error() -> None:
    original = saved(RATED5)

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated(original, (*HTML_JUNK, b"</article>", b"<article>")))
    def check(body: bytes) -> None:
        try:
            parsed = parser.parse(body, RATED5_URL)
        except PageError as exc:
            assert exc.reason and exc.where == RATED5_URL
            return
        assert parsed.block_count == len(parsed.reviews) <= 13
        for review in parsed.reviews:
            data = review.to_dict()
            assert data["review_id"].isdigit() and data["subject"]["id"].isdigit()
            assert data["text"] and data["author"]["name"]
            assert data["rating"] is None or 0.5 <= data["rating"] <= 5
            assert set(data["reactions"]) == {"likes", "comments"}
            assert isinstance(data["text_truncated"], bool)

    check()


def test_mutated_fragments_raise_only_page_error() -> None:
    original = saved(f"full-text-viewing-{CUT_ID}.html")
    url = full_text_url(CUT_ID)

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(mutated(original, (*HTML_JUNK, b"</article>", b"<article>")))
    def check(body: bytes) -> None:
        try:
            completions = parser.parse_full_text(body, url)
        except PageError as exc:
            assert exc.reason and exc.where == url
            return
        assert [c.review_id for c in completions] == [CUT_ID]
        assert completions[0].text.strip()

    check()
