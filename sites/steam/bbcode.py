"""Steam's review BBCode to the review contract's clean text (`../shared/docs/sites.md`, Steam).

- Line tags: `[h1]`-`[h3]`, `[list]`, `[olist]`, `[table]`, `[tr]`, `[quote]`/`[quote=NAME]` (the
  name is dropped), `[code]`, `[hr]`, `[*]` and their closing tags mark line boundaries: each ends
  the current line if it has text, never adds a blank line, and a line holding only such tags (and
  spaces) disappears. `[list]\\n[*]a\\n[*]b\\n[/list]` is `a\\nb`, without bullets.
- Tables: cells (`[th]`, `[td]`) are joined by one space and each row is a line, so a newline
  inside a table is a space; line tags inside a cell still break the line.
- Inline tags `[b] [i] [u] [s] [strike] [spoiler] [url] [url=X] [noparse] [sup] [sub] [img]` go and
  their content stays. What `[noparse]...[/noparse]` holds is the author's text as written: tags
  in it are not markup (that is what the tag is for on Steam).
- Only these tag names (any case) are markup: `[6/10]`, `[✔]` or `[previewyoutube=...]` are the
  author's text.
- Then the contract's rules, as `parsers.text.plain_text` applies them to JSON text (a test holds
  the two to the same result): mojibake repaired, lines stripped, runs of spaces and tabs folded,
  no more than one blank line. No entity decoding: the API's text is plain. NUL, U+0001-U+0003
  (the marks the cleaning uses) and lone surrogates, which only JSON escapes can carry, are no
  text anyone wrote: they go (a surrogate becomes U+FFFD).

Speed: a crawl parses every page and `hoard reparse` the whole archive, and a Steam review is long
text, so the cleaning uses C-level string methods over whole texts, not a regex over every
character or a loop over every line where it can.
"""

from __future__ import annotations

import re

from reviewhoard.parsers.text import fix_mojibake

LINE_TAGS = frozenset(
    {"h1", "h2", "h3", "list", "olist", "table", "tr", "quote", "code", "hr", "*"}
)
"""Tags that mark line boundaries (opening and closing alike)."""
CELL_TAGS = frozenset({"th", "td"})
"""Table cells: joined by one space."""
INLINE_TAGS = frozenset(
    {"b", "i", "u", "s", "strike", "spoiler", "url", "noparse", "sup", "sub", "img"}
)
"""Tags that go without a trace, their content kept."""
_WITH_VALUE = frozenset({"url", "quote"})
"""The tags written with a value (`[url=X]`, `[quote=NAME]`); the value is dropped."""

# Candidate tags; `*` needs no word boundary.
_TAG = re.compile(
    r"\[(/?)(h[123]|o?list|table|t[rhd]|quote|code|hr|\*|b|i|u|s|strike|spoiler|url|noparse"
    r"|sup|sub|img)(=[^\]\n]*)?\]",
    re.IGNORECASE,
)
_NOPARSE = re.compile(r"\[noparse\](.*?)(?:\[/noparse\]|\Z)", re.IGNORECASE | re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")
_strip = str.strip  # for map(): strips in C, line by line
# Marks for what the tags become, before lines are resolved: characters nobody writes (they are
# removed from the text first).
_EDGE = "\x01"
_TABLE_OPEN = "\x02"
_TABLE_CLOSE = "\x03"
_CONTROLS = ("\x00", _EDGE, _TABLE_OPEN, _TABLE_CLOSE)
_TABLE_SPLIT = re.compile("([\x02\x03])")
_MARK_OF: dict[str, str] = (
    {name: _EDGE for name in LINE_TAGS}
    | {name: " " for name in CELL_TAGS}
    | {name: "" for name in INLINE_TAGS}
    | {"table": _TABLE_OPEN, "/table": _TABLE_CLOSE}
)


def bbcode_text(text: str) -> str:
    """A Steam review (BBCode, `\\n` line breaks) as the contract's clean text."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text or _EDGE in text or _TABLE_OPEN in text or _TABLE_CLOSE in text:
        for mark in _CONTROLS:
            text = text.replace(mark, "")  # control characters: no text anyone wrote
    if not text.isascii():
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (from a JSON escape: UTF-8 bytes cannot carry one) is no
            # character, and no text could be written out with it.
            text = _SURROGATE.sub("\ufffd", text)
            encoded = text.encode("utf-8")
        # Mojibake (UTF-8 read as cp1252/Latin-1) shows a lead byte as one of U+00C2-U+00F4,
        # which UTF-8 writes with the byte C3: without it the shared repair (a costly search)
        # has nothing to find.
        if b"\xc3" in encoded:
            text = fix_mojibake(text)
    if "[" in text:
        text = _without_tags(text)
    return tidy_lines(text)


def tidy_lines(text: str) -> str:
    """Plain text with `\\n` line breaks to the contract's text, as `parsers.text.plain_text`
    does (without its mojibake step): runs of ASCII spaces and tabs in a line become one space,
    each line is stripped, blank lines fold to one, none at either end.

    String methods only, no regex: a regex over every space of a long review costs more than
    the rest of its parse.
    """
    if "\t" in text or "\f" in text or "\v" in text:
        text = text.replace("\t", " ").replace("\f", " ").replace("\v", " ")
    if "\n" not in text:
        return _fold_spaces(text).strip()
    if "  " in text:
        lines = [
            (_fold_spaces(line) if "  " in line else line).strip() for line in text.split("\n")
        ]
        text = "\n".join(lines)
    else:
        text = "\n".join(map(_strip, text.split("\n")))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n")


def _fold_spaces(line: str) -> str:
    while "  " in line:
        line = line.replace("  ", " ")
    return line


class _NoParse(Exception):
    """A text holds `[noparse]`: its tags must be read around what that holds."""


def _mark(match: re.Match[str]) -> str:
    """What one tag becomes: a mark, a space, nothing, or itself when Steam knows no such tag."""
    closing, name, value = match.groups()
    name = name.lower()
    if value is not None and (closing or name not in _WITH_VALUE):
        return match.group(0)
    if name == "noparse" and not closing:
        raise _NoParse  # rare: the text is read again, without tags inside [noparse]
    if name == "table" and closing:
        name = "/table"
    return _MARK_OF[name]


def _without_tags(text: str) -> str:
    """The text with BBCode gone and line tags resolved (spaces not yet folded).

    The text is cut into segments at newlines and at line tags. A segment with text is a line.
    An empty one is an empty line (a paragraph break) only between two newlines: one that
    touches a line tag is a line holding only tags, which disappears. So a line of the text
    without line tags stays as it is, and one with them becomes its pieces that hold text.
    """
    try:
        marked = _TAG.sub(_mark, text)
    except _NoParse:
        # What [noparse] holds is the author's text: tags only outside it (where, split out
        # of the text, no [noparse] is left).
        parts = _NOPARSE.split(text)
        marked = "".join(part if odd else _TAG.sub(_mark, part) for odd, part in _alternate(parts))
    if _TABLE_OPEN in marked:
        marked = _flatten_tables(marked)
    elif _TABLE_CLOSE in marked:
        marked = marked.replace(_TABLE_CLOSE, _EDGE)
    if _EDGE not in marked:
        return marked
    lines: list[str] = []
    for line in marked.split("\n"):
        if _EDGE in line:
            lines.extend([piece for piece in line.split(_EDGE) if piece.strip()])
        else:
            lines.append(line)
    return "\n".join(lines)


def _alternate(parts: list[str]) -> list[tuple[bool, str]]:
    """A `re.split` result with one group: (False, outside), (True, group), (False, ...) ..."""
    return [(index % 2 == 1, part) for index, part in enumerate(parts)]


def _flatten_tables(marked: str) -> str:
    """Inside a table a newline is a space (each row is a line: `[tr]` ends one); the table's
    own tags end lines like the other line tags."""
    out: list[str] = []
    depth = 0
    for piece in _TABLE_SPLIT.split(marked):
        if piece == _TABLE_OPEN:
            depth += 1
            out.append(_EDGE)
        elif piece == _TABLE_CLOSE:
            depth = max(0, depth - 1)
            out.append(_EDGE)
        else:
            out.append(piece.replace("\n", " ") if depth else piece)
    return "".join(out)
