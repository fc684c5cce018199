"""The shared clean-text rules of the contract (parsers/text.py), rule by rule."""

from __future__ import annotations

import lxml.html
import pytest

from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.text import (
    clean_text,
    decode_html,
    element_text,
    fix_mojibake,
    html_fragment_text,
    plain_text,
    unescape_again,
)


def text_of(fragment: str) -> str:
    return element_text(lxml.html.fragment_fromstring(fragment, create_parent="div"))


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # <br> is a line break; two make a paragraph; more never make more than one blank line
        ("one<br>two", "one\ntwo"),
        ("one<br><br>two", "one\n\ntwo"),
        ("one<br />\n<br />\n<br />\n<br />two", "one\n\ntwo"),
        # source newlines inside a paragraph are spaces; runs of spaces and tabs become one
        ("a long\nline   with\t\tgaps", "a long line with gaps"),
        # each line stripped, leading and trailing blank lines dropped
        ("<br>  \n  first  <br>   second   <br><br>", "first\nsecond"),
        # entities are decoded once: another site's "&lt;3" stays as the author wrote it
        ("I wrote &amp;lt;3 &amp;amp; more", "I wrote &lt;3 &amp; more"),
        # an author's bare ampersand or an entity-looking word without ';' stays as written
        ("R&amp;D &amp;notice AT&amp;T", "R&D &notice AT&T"),
        # spoiler blocks: the text stays, the button labels (inputs) go
        (
            'before<div class="spoiler"><input type="button" value="Show spoiler">'
            '<span class="spoiler_content"><input type="button" value="Hide spoiler">'
            "<br>hidden twist</span></div>after",
            "before\nhidden twist\nafter",
        ),
        # scripts and styles are never text; emoji and full-width text are kept
        ("<script>var x = 1;</script>Great 👍 ＡＢＣ ﬁne<style>p{}</style>", "Great 👍 ＡＢＣ ﬁne"),
        # a block element ([center] on MAL) is its own line, but adds no empty line
        ('intro<div style="text-align:center">centered</div>outro', "intro\ncentered\noutro"),
        ("intro<br><div>centered</div><br>outro", "intro\ncentered\n\noutro"),
        # the author's own "Overall 9/10" line is text
        ("Story 9<br>Overall 9/10", "Story 9\nOverall 9/10"),
    ],
    ids=[
        "br",
        "paragraph",
        "blank-runs",
        "source-newlines",
        "strip",
        "entities-once",
        "bare-ampersand",
        "spoiler",
        "block",
        "block-and-br",
        "furniture-and-emoji",
        "own-score",
    ],
)
def test_clean_text_rules(html: str, expected: str) -> None:
    assert text_of(html) == expected


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("late â€™90s", "late ’90s"),
        ("â€œVictorâ€\x9d said", "“Victor” said"),
        # the 0x9D byte of ” has no cp1252 character and is often lost
        ("â€œVictorâ€ said", "“Victor” said"),
        ("cafÃ© crÃ¨me", "café crème"),
    ],
)
def test_mojibake_is_repaired(broken: str, fixed: str) -> None:
    assert fix_mojibake(broken) == fixed
    assert clean_text(broken) == fixed


@pytest.mark.parametrize(
    "kept",
    ["“curly” ‘quotes’", "ＦＵＬＬ ｗｉｄｔｈ", "ﬁne ligatures", "naïve café à la", "Ω ≈ ∞ ™"],
)
def test_clean_text_is_left_as_the_author_wrote_it(kept: str) -> None:
    assert fix_mojibake(kept) == kept
    assert clean_text(kept) == kept


def test_double_escaped_entities_are_decoded_only_for_sites_that_ask() -> None:
    fragment = lxml.html.fragment_fromstring(
        "Ed&amp;rsquo;s &amp;quot;Story&amp;quot; Black &amp;amp; White", create_parent="div"
    )
    assert element_text(fragment, unescape_twice=True) == 'Ed’s "Story" Black & White'
    assert element_text(fragment) == "Ed&rsquo;s &quot;Story&quot; Black &amp; White"


def test_plain_text_keeps_line_breaks_and_decodes_nothing() -> None:
    assert plain_text("a  b\r\n\n\n\n c &lt;3\n") == "a b\n\nc &lt;3"


def test_html_fragment_text_decodes_once() -> None:
    assert html_fragment_text("x<br>y<p>z &amp;lt;3</p>") == "x\ny\nz &lt;3"


def test_unescape_again_only_touches_entities() -> None:
    assert unescape_again("no ampersand here") == "no ampersand here"
    assert unescape_again("&lt;b&gt; &#39;x&#x27; &bogus; &") == "<b> 'x' &bogus; &"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<p>naïve ’</p>".encode(), "<p>naïve ’</p>"),
        (b"\xef\xbb\xbf<p>bom</p>", "<p>bom</p>"),
        ("<p>utf16</p>".encode("utf-16"), "<p>utf16</p>"),
        # not UTF-8: the declared charset, else cp1252
        (
            '<meta charset="koi8-r"><p>Привет</p>'.encode("koi8-r"),
            '<meta charset="koi8-r"><p>Привет</p>',
        ),
        ("<p>café “x”</p>".encode("cp1252"), "<p>café “x”</p>"),
        # valid UTF-8 wins over a wrong Latin-1 declaration
        (
            '<meta charset="iso-8859-1"><p>café</p>'.encode(),
            '<meta charset="iso-8859-1"><p>café</p>',
        ),
    ],
    ids=["utf8", "bom", "utf16", "declared", "cp1252", "wrong-declaration"],
)
def test_decode_html(body: bytes, text: str) -> None:
    assert decode_html(body) == text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page (0 bytes)"),
        (b"plain words only", "not an HTML page (no markup"),
        (b"<\x00\x01\x02\x03" * 50, "not an HTML page (no markup"),
        (b"<" + bytes(range(1, 32)) * 30, "not an HTML page (binary bytes"),
    ],
)
def test_decode_html_refuses_non_html(body: bytes, reason: str) -> None:
    with pytest.raises(PageError) as caught:
        decode_html(body, "page.html")
    assert caught.value.reason.startswith(reason)
    assert caught.value.where == "page.html"
