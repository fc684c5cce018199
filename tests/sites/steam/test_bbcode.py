"""Steam's BBCode to clean text: one case per rule of sites.md, and the contract's text rules.

Rules (`../shared/docs/sites.md`, Steam): line tags end the current line if it has text, never add
a blank line, and a line holding only such tags disappears; table cells are joined by one space,
each row a line; inline tags go and their content stays; only Steam's tag names are markup; then
the contract's rules, without entity decoding.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewhoard.parsers.text import BREAK, clean_text, plain_text
from reviewhoard.sites.steam.bbcode import bbcode_text, tidy_lines


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("[list]\n[*]a\n[*]b\n[/list]", "a\nb"),
        (
            "Pros:\n[list]\n[*]cheap\n[*]funny\n[/list]\nCons: none",
            "Pros:\ncheap\nfunny\nCons: none",
        ),
        ("[olist]\n    [*]first\n    [*]second\n[/olist]", "first\nsecond"),
        ("[list][*]one[*]two[/list]", "one\ntwo"),
        ("[list]\n[*]a[/*]\n[*]b[/*]\n[/list]", "a\nb"),
    ],
    ids=[
        "sites-md-example",
        "list-between-lines",
        "olist-indented",
        "one-line-list",
        "closed-items",
    ],
)
def test_lists_are_lines_without_bullets(source: str, text: str) -> None:
    assert bbcode_text(source) == text


@pytest.mark.parametrize("tag", ["h1", "h2", "h3"])
def test_headings_end_lines(tag: str) -> None:
    source = f"If you don't have this game, [{tag}]buy it now.[/{tag}]\nDig into your bank account."
    assert bbcode_text(source) == (
        "If you don't have this game,\nbuy it now.\nDig into your bank account."
    )


def test_heading_on_its_own_line_keeps_the_authors_blank_lines() -> None:
    source = "[h1]Portal 2 [/h1]\n\n❤ Audience :\n\n☐ Kids\n☑ Everyone"
    assert bbcode_text(source) == "Portal 2\n\n❤ Audience :\n\n☐ Kids\n☑ Everyone"


def test_line_tags_never_add_a_blank_line() -> None:
    assert bbcode_text("one[h1]two[/h1][h2]three[/h2]four") == "one\ntwo\nthree\nfour"
    assert bbcode_text("para one\n[hr][/hr]\npara two") == "para one\npara two"


def test_a_line_of_only_tags_disappears_even_with_spaces_and_inline_tags() -> None:
    assert bbcode_text("a\n  [list]  \n[*]b\n [b][/list][/b] \nc") == "a\nb\nc"


def test_blank_lines_around_line_tags_stay_single() -> None:
    assert bbcode_text("a\n\n\n[hr][/hr]\n\n\nb") == "a\n\nb"


def test_table_cells_join_with_one_space_and_rows_are_lines() -> None:
    source = (
        "[table]\n[tr]\n[th]Part[/th]\n[th]Score[/th]\n[/tr]\n"
        "[tr]\n[td]Story[/td][td]9/10[/td]\n[/tr]\n[/table]\nAfter the table."
    )
    assert bbcode_text(source) == "Part Score\nStory 9/10\nAfter the table."


def test_unclosed_table_with_headings_in_cells() -> None:
    """Review 49283940 (Portal 2): the saved text and the expected file's."""
    source = (
        "[table]\n [tr]\n        [th][h1]⠀⠀💎Hoodie Allen - Two Lips Acoustic!💎[/h1]\n"
        " [h1]───⚪───[/h1] \n⠀▐▐ ⠀►▏ ⠀⠀──○─\u2004🔊 ⠀₁:₀₀ / ₄:₀₀ ⠀⠀          ⠀⠀ᴴᴰ⚙ ❐ ⊏⊐\n"
        "        [th]https://www.youtube.com/watch?v=CJTElVG7EMY[/th]"
    )
    assert bbcode_text(source) == (
        "⠀⠀💎Hoodie Allen - Two Lips Acoustic!💎\n───⚪───\n"
        "⠀▐▐ ⠀►▏ ⠀⠀──○─\u2004🔊 ⠀₁:₀₀ / ₄:₀₀ ⠀⠀ ⠀⠀ᴴᴰ⚙ ❐ ⊏⊐ https://www.youtube.com/watch?v=CJTElVG7EMY"
    )


def test_newlines_after_a_table_are_line_breaks_again() -> None:
    assert bbcode_text("[table][tr][td]a\nb[/td][/tr][/table]\nc\nd") == "a b\nc\nd"


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (
            "He said:[quote]The cake is a lie.[/quote]I agree.",
            "He said:\nThe cake is a lie.\nI agree.",
        ),
        ("[quote=GLaDOS]Still alive.[/quote]\nIndeed.", "Still alive.\nIndeed."),
        ("[quote=GLaDOS;123456]Still alive.[/quote]", "Still alive."),
    ],
    ids=["quote", "quote-with-name", "quote-with-name-and-id"],
)
def test_quotes_are_lines_and_the_name_is_dropped(source: str, text: str) -> None:
    assert bbcode_text(source) == text


def test_code_is_its_own_lines() -> None:
    assert bbcode_text("Bind it:[code]bind x +jump\nbind y +duck[/code]Done.") == (
        "Bind it:\nbind x +jump\nbind y +duck\nDone."
    )


def test_hr_ends_a_line() -> None:
    assert bbcode_text("above[hr]below") == "above\nbelow"
    assert bbcode_text("above[hr][/hr]below") == "above\nbelow"


@pytest.mark.parametrize(
    "tag", ["b", "i", "u", "s", "strike", "spoiler", "url", "noparse", "sup", "sub", "img"]
)
def test_inline_tags_go_and_their_content_stays(tag: str) -> None:
    assert bbcode_text(f"a [{tag}]middle[/{tag}] z") == "a middle z"
    assert bbcode_text(f"no[{tag}]space[/{tag}]s") == "nospaces"


def test_url_with_target_keeps_only_its_label() -> None:
    source = "See [url=https://store.steampowered.com/app/620/]the store page[/url]."
    assert bbcode_text(source) == "See the store page."


def test_img_keeps_its_address() -> None:
    assert bbcode_text("[img]https://i.imgur.com/x.png[/img]") == "https://i.imgur.com/x.png"


def test_spoiler_text_stays() -> None:
    source = "GLaDOS is the antagonist [spoiler]at least for the first half[/spoiler]."
    assert bbcode_text(source) == "GLaDOS is the antagonist at least for the first half."


def test_noparse_holds_the_authors_text() -> None:
    assert bbcode_text("Write [noparse][b]bold[/b][/noparse] for bold.") == (
        "Write [b]bold[/b] for bold."
    )
    assert bbcode_text("[NOPARSE][h1]x[/h1]\nline[/noparse] [b]y[/b]") == "[h1]x[/h1]\nline y"
    assert bbcode_text("open [noparse][i]to the end") == "open [i]to the end"


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("[B]Loud[/B] and [I]slanted[/i]", "Loud and slanted"),
        ("x[H1]Title[/h1]y", "x\nTitle\ny"),
        ("[URL=https://x.test]link[/Url]", "link"),
        ("[LIST][*]a[*]b[/LIST]", "a\nb"),
    ],
    ids=["inline", "heading", "url", "list"],
)
def test_tag_names_in_any_case(source: str, text: str) -> None:
    assert bbcode_text(source) == text


@pytest.mark.parametrize(
    "source",
    [
        "As expected, nine out of ten [9/10].",
        "[✔] Good story [✘] Long",
        "[6/10]",
        "[previewyoutube=abc123;full][/previewyoutube]",
        "[bold]not a tag[/bold]",
        "[b=red]value on a tag without one[/b=red]",
        "[/url=x] [* ] [ b]",
        "===[ Audience: ]===",
    ],
)
def test_only_steams_tag_names_are_markup(source: str) -> None:
    assert bbcode_text(source) == source


def test_no_entity_decoding() -> None:
    assert bbcode_text("R&amp;D &lt;3 &quot;quoted&quot; [b]&amp;[/b]") == (
        "R&amp;D &lt;3 &quot;quoted&quot; &amp;"
    )


def test_contract_rules_after_the_tags() -> None:
    source = "  [b]Title[/b]  \r\n\r\n\r\n\tline  with   spaces\t\r\nnext\n\n"
    assert bbcode_text(source) == "Title\n\nline with spaces\nnext"


def test_unicode_spaces_at_line_ends_go_and_inside_lines_stay() -> None:
    source = "\u3000STILL ALIVE?\n\n\u3000\u3000Co-op:    ☺☺☺\n──\u2004🔊"
    assert bbcode_text(source) == "STILL ALIVE?\n\nCo-op: ☺☺☺\n──\u2004🔊"


def test_mojibake_is_repaired() -> None:
    assert bbcode_text("the late â€™90s, [i]â€œVictorâ€[/i]") == "the late ’90s, “Victor”"


def test_control_marks_in_the_text_are_not_line_breaks() -> None:
    assert bbcode_text("a\x00b\x01c\x02d\x03e") == "abcde"


def test_empty_and_tag_only_reviews() -> None:
    assert bbcode_text("") == ""
    assert bbcode_text("[h1][/h1]\n[list][/list]") == ""
    assert bbcode_text(" \n\n ") == ""


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="[\x00\x01\x02\x03"),
    max_size=200,
) | st.lists(
    st.sampled_from(
        ["a", "b c", " ", "  ", "\t", "\n", "\r\n", "\r", "\u3000", "\xa0", "â€™", "é"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_TEXT)
def test_text_without_tags_follows_the_shared_plain_text_rules(text: str) -> None:
    """The fast string-method cleaning gives what `parsers.text.plain_text` gives."""
    assert bbcode_text(text) == plain_text(text)


def test_tidy_lines_examples() -> None:
    assert tidy_lines("  a  b  \n\n\n\n c \n") == "a b\n\nc"
    assert tidy_lines("one line   only ") == "one line only"
    assert tidy_lines("x" + " " * 37 + "y") == "x y"


# A plain, slow statement of the rules: one pass over tags and newlines, segment by segment. The
# module's version works on whole strings for speed; both must give the same text.
_REF_TOKEN = re.compile(
    r"\n|\[(/?)(h[123]|o?list|table|t[rhd]|quote|code|hr|\*|b|i|u|s|strike|spoiler|url|noparse"
    r"|sup|sub|img)(=[^\]\n]*)?\]",
    re.IGNORECASE,
)
_REF_LINE = {"h1", "h2", "h3", "list", "olist", "table", "tr", "quote", "code", "hr", "*"}


def reference_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\x00-\x03]", "", text)
    lines: list[str] = []
    pieces: list[str] = []
    state = {"after_tag": False, "table": 0}

    def end(at_tag: bool) -> None:
        segment = "".join(pieces)
        pieces.clear()
        if segment.strip():
            lines.append(segment)
        elif not (state["after_tag"] or at_tag):
            lines.append("")
        state["after_tag"] = at_tag

    def newline() -> None:
        if state["table"]:
            pieces.append(" ")
        else:
            end(False)

    pos = 0
    while pos < len(text):
        match = _REF_TOKEN.search(text, pos)
        if match is None:
            pieces.append(text[pos:])
            break
        pieces.append(text[pos : match.start()])
        pos = match.end()
        if match.group(2) is None:
            newline()
            continue
        closing, name, value = match.group(1) == "/", match.group(2).lower(), match.group(3)
        if value is not None and (closing or name not in ("url", "quote")):
            pieces.append(match.group(0))
        elif name == "noparse" and not closing:
            close = re.compile(r"\[/noparse\]", re.IGNORECASE).search(text, pos)
            literal = text[pos : close.start() if close else len(text)]
            pos = close.end() if close else len(text)
            first, *rest = literal.split("\n")
            pieces.append(first)
            for line in rest:
                newline()
                pieces.append(line)
        elif name in ("th", "td"):
            pieces.append(" ")
        elif name in _REF_LINE:
            if name == "table":
                state["table"] = max(0, state["table"] - 1) if closing else state["table"] + 1
            end(True)
    end(False)
    return clean_text(BREAK.join(lines))


_PIECES = st.sampled_from(
    [
        "word",
        "Two words",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "\u3000",
        "[",
        "]",
        "[6/10]",
        "[✔]",
        "=",
        "[b]",
        "[/b]",
        "[I]",
        "[/i]",
        "[u]",
        "[s]",
        "[strike]",
        "[spoiler]",
        "[/spoiler]",
        "[url=https://x.test/a]",
        "[url]",
        "[/url]",
        "[/url=x]",
        "[b=x]",
        "[img]",
        "[sup]",
        "[sub]",
        "[h1]",
        "[/h1]",
        "[H2]",
        "[/h3]",
        "[list]",
        "[/list]",
        "[olist]",
        "[*]",
        "[/*]",
        "[quote]",
        "[quote=GLaDOS;123]",
        "[/quote]",
        "[code]",
        "[/code]",
        "[hr]",
        "[/hr]",
        "[table]",
        "[/table]",
        "[tr]",
        "[/tr]",
        "[th]",
        "[td]",
        "[/td]",
        "[noparse]",
        "[/noparse]",
        "[NoParse]",
    ]
)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_bbcode_matches_the_plain_statement_of_the_rules(text: str) -> None:
    assert bbcode_text(text) == reference_text(text)
