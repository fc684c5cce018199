"""The shared clean-text rules of the review contract, and turning page bytes into text.

Every site parser gets its review text through `TextReader` (a kind of review container, read
fast, its page furniture dropped), `element_text()` (any element) or `clean_text()` (raw text with
`BREAK` marking hard line breaks), so the rules live in one place:

- `<br>` becomes a line break; a blank line separates paragraphs; never more than one blank line;
  each line stripped; runs of spaces/tabs inside a line become one space; newlines in the HTML
  source inside a paragraph are spaces.
- Entities are decoded once (by the HTML parser). A site that escapes its text once more than
  the HTML needs (`Ed&amp;rsquo;s` in the page meaning `Ed’s`) asks for a second pass
  with `unescape_twice=True`; only well-formed entities (`&name;`, `&#N;`) are decoded then, so
  "R&D" or "&notice" written by an author stay as written. Other sites keep `&lt;3` as written.
- Mojibake (UTF-8 read as Windows-1252: `â€™`) is repaired with ftfy's encoding fixes only, and
  only on text that shows its marks, because ftfy costs more than the whole page parse.
- Spoiler blocks keep their text; their "Show spoiler"/"Hide spoiler" buttons (`<input>`) go.

Page bytes: `decode_html()` (BOM, then UTF-8, then the declared charset, then cp1252; never a
crash) and `require_html_bytes()` (empty pages and bytes that are no HTML become PageError).
"""

from __future__ import annotations

import codecs
import contextlib
import html
import re
from collections.abc import Callable, Iterable

import ftfy
from lxml import etree

from reviewhoard.parsers.errors import PageError

BREAK = "\x00"
"""Marks a hard line break (`<br>`) in raw text: lxml never yields NUL, so it cannot collide."""
BLOCK_EDGE = "\x01"
"""Marks the edge of a block element: a line break only where the line has text (as a browser
starts a `<div>` on a new line, but never adds an empty line for it)."""
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")
_BR_MARK = "\ufdd0"
_BREAKS = re.compile("([\x00\x01])")

# Characters that a UTF-8 continuation byte (0x80-0xBF) becomes when read as cp1252 or Latin-1.
_CONTINUATION = "".join(
    sorted(
        set(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore"))
        | set(bytes(range(0x80, 0xC0)).decode("latin-1"))
    )
)
_CONT_CLASS = "[" + re.escape(_CONTINUATION) + "]"
_MOJIBAKE = re.compile("[\u00c2-\u00f4]" + _CONT_CLASS)
# "â€" + 0x9D is ” in UTF-8, but 0x9D has no cp1252 character, so pages lose it: "â€" alone.
_LOST_9D = re.compile("â€(?!" + _CONT_CLASS + ")")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SOURCE_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_SOURCE_WHITESPACE = ("\n", "\t", "\r", "\f", "\v", "  ")
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
BOMS: tuple[bytes, ...] = tuple(bom for bom, _ in _BOMS)
"""The byte order marks that name a page's encoding (UTF-8, UTF-16, UTF-32)."""

SKIP_TAGS = frozenset({"script", "style", "noscript", "input", "button", "select", "textarea"})
"""Elements whose content is never review text (spoiler buttons are `<input>`s on MAL)."""
BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table"}
)
"""Elements a browser starts on a new line: they end the line before and after them."""
_WALKER_TAGS: tuple[str, ...] = tuple(sorted(SKIP_TAGS | BLOCK_TAGS))


def decode_html(body: bytes, where: str | None = None) -> str:
    """Page bytes to text: BOM first, then UTF-8, then the page's declared charset, then cp1252.

    Valid UTF-8 wins over a declared single-byte charset because real pages often declare
    Latin-1 and send UTF-8; bytes that are no text at all raise PageError.
    """
    return decode_page(body, where)[0]


def require_html_bytes(body: bytes, where: str | None = None) -> None:
    """PageError unless the bytes can be an HTML page: not empty, markup near the start, no
    binary junk (checked on the first 4 KB, as `decode_html` does)."""
    if not body or body.isspace():
        raise PageError(f"empty page ({len(body)} bytes): fetch it again", where)
    if not body.startswith(BOMS):
        _require_html(body[:4096].decode("utf-8", errors="replace"), where)


def decode_page(body: bytes, where: str | None = None) -> tuple[str, bool]:
    """`decode_html`, and whether `body` is already the UTF-8 form of the text (no BOM), so a
    parser can hand lxml the bytes as they are instead of encoding the text again."""
    if not body or body.isspace():
        raise PageError(f"empty page ({len(body)} bytes): fetch it again", where)
    text: str | None = None
    for bom, codec in _BOMS:
        if body.startswith(bom):
            with contextlib.suppress(UnicodeDecodeError):
                text = body.decode(codec)
            break
    utf8 = False
    if text is None:
        try:
            text = body.decode("utf-8")
            utf8 = True
        except UnicodeDecodeError:
            text = _decode_declared(body)
    _require_html(text, where)
    return text, utf8


def _decode_declared(body: bytes) -> str:
    match = _CHARSET.search(body, 0, 4096)
    if match:
        try:
            codec = codecs.lookup(match.group(1).decode("ascii")).name
            if codec not in ("utf-8", "latin-1", "iso8859-1", "ascii"):
                return body.decode(codec)
        except (LookupError, UnicodeDecodeError):
            pass
    # Latin-1 pages are in practice cp1252; its 5 unassigned bytes become U+FFFD, not a crash.
    return body.decode("cp1252", errors="replace")


def _require_html(text: str, where: str | None) -> None:
    head = text[:4096]
    if "<" not in head or "\x00" in head:
        raise PageError("not an HTML page (no markup in its first 4 KB): check the file", where)
    controls = len(_CONTROLS.findall(head))
    if controls * 20 > len(head) or head.count("\ufffd") * 10 > len(head):
        raise PageError("not an HTML page (binary bytes in its first 4 KB): check the file", where)


def unescape_again(text: str) -> str:
    """Decode entities left in already-decoded text (MAL's double escaping); `&` alone stays."""
    if "&" not in text:
        return text
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def fix_mojibake(text: str) -> str:
    """Repair UTF-8-read-as-cp1252 text with ftfy's encoding fixes, only where its marks show.

    Curly quotes, full-width characters and ligatures the author typed are kept as written.
    """
    if text.isascii() or not _MOJIBAKE.search(text):
        return text
    return ftfy.fix_encoding(_LOST_9D.sub("â€\x9d", text))


def clean_text(raw: str, unescape_twice: bool = False) -> str:
    """Raw review text (source whitespace as is, `BREAK` for each `<br>`, `BLOCK_EDGE` around
    block elements) to the contract's text. `unescape_twice` is for sites that escape their text
    twice."""
    text = unescape_again(raw) if unescape_twice and "&" in raw else raw
    if not text.isascii():
        text = fix_mojibake(text)
    if BLOCK_EDGE in text:
        text = _resolve_block_edges(text)
    # Scanning for the few characters to fix is far cheaper than touching every word; text from
    # TextReader's fast path has none.
    if any(ws in text for ws in _SOURCE_WHITESPACE):
        text = _SOURCE_SPACES.sub(" ", text)
    lines: list[str] = []
    blank = False
    for segment in text.split(BREAK):
        line = segment.strip()
        if not line:
            blank = True
            continue
        if blank and lines:
            lines.append("")
        lines.append(line)
        blank = False
    return "\n".join(lines)


def _resolve_block_edges(text: str) -> str:
    """A block edge is a line break only where the line so far has text."""
    out: list[str] = []
    line_has_text = False
    for token in _BREAKS.split(text):
        if token == BLOCK_EDGE:
            if line_has_text:
                out.append(BREAK)
                line_has_text = False
        elif token == BREAK:
            out.append(BREAK)
            line_has_text = False
        elif token:
            out.append(token)
            line_has_text = line_has_text or not token.isspace()
    return "".join(out)


Skip = Callable[[etree._Element], bool]
Furniture = Callable[[etree._Element], Iterable[etree._Element]]


def element_text(
    element: etree._Element, skip: Skip | None = None, unescape_twice: bool = False
) -> str:
    """The clean text of an element: its text without the elements `skip` rejects."""
    parts: list[str] = []
    _collect(element, parts, skip)
    return clean_text("".join(parts), unescape_twice)


def plain_text(text: str) -> str:
    """Plain text with `\n` line breaks (a JSON API's review body) to the contract's text: each
    line break is kept as one, blank lines fold to one, lines stripped, spaces folded. No entity
    decoding: plain text has none."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", BREAK)
    return clean_text(raw)


def html_fragment_text(fragment: str, skip: Skip | None = None) -> str:
    """An HTML fragment held in page data (a JSON field with markup) to the contract's text:
    `<br>` a line break, block elements their own paragraphs, entities decoded once."""
    if not fragment.strip():
        return ""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    import lxml.html

    root = lxml.html.fragment_fromstring(_xml_safe(fragment), create_parent="div")
    return element_text(root, skip)


def raw_text(element: etree._Element, skip: Skip | None = None) -> str:
    """The raw text of an element for `clean_text()` (so callers can join several elements)."""
    parts: list[str] = []
    _collect(element, parts, skip)
    return "".join(parts)


def _collect(element: etree._Element, parts: list[str], skip: Skip | None) -> None:
    if element.text:
        parts.append(element.text)
    after_button = False
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments and processing instructions: only their tail
            pass
        elif tag == "br":
            # A spoiler's "Hide spoiler" button sits on its own line: its line end goes with it.
            if not after_button:
                parts.append(BREAK)
        elif tag in SKIP_TAGS or (skip is not None and skip(child)):
            pass
        elif tag in BLOCK_TAGS:
            parts.append(BLOCK_EDGE)
            _collect(child, parts, skip)
            parts.append(BLOCK_EDGE)
        else:
            _collect(child, parts, skip)
        after_button = tag == "input" and not (child.tail and child.tail.strip())
        if child.tail:
            parts.append(child.tail)


class TextReader:
    """Reads one kind of review text container with the clean-text rules, fast.

    `furniture` finds, in a container, the elements that are not text (e.g. the "..." span
    between the visible part and the rest). Reading drops them from the parser's own tree
    (keeping the text after them), so the rest is plain: containers without block elements,
    buttons or scripts (nearly every review) are read with one XPath call; the others go through
    the element walker, which knows block edges and spoiler buttons. Both give the same text for
    the same input.
    """

    def __init__(self, furniture: Furniture | None = None, unescape_twice: bool = False) -> None:
        # normalize-space() collapses XML whitespace (space, tab, CR, LF) in C: the text then
        # needs no per-word work in Python. Other spaces (no-break...) are left as they are.
        self._normalized = etree.XPath("normalize-space(.)", smart_strings=False)
        self._furniture = furniture
        self._unescape_twice = unescape_twice

    def raw(self, element: etree._Element) -> str:
        """The container's raw text (with `BREAK`/`BLOCK_EDGE` marks) for `clean_text()`."""
        if self._furniture is not None:
            for piece in list(self._furniture(element)):
                drop_element(piece)
        # The walker is needed for exactly the elements it treats apart from inline ones.
        if next(element.iterdescendants(*_WALKER_TAGS), None) is not None:
            return raw_text(element)
        # A <br> is void: giving it a mark as its text lets one XPath read everything. The mark
        # is a Unicode noncharacter; should a text hold one already, the counts tell.
        brs = list(element.iter("br"))
        for br in brs:
            br.text = _BR_MARK
        joined = str(self._normalized(element))
        if joined.count(_BR_MARK) != len(brs):
            for br in brs:
                br.text = None
            return raw_text(element)
        return joined.replace(_BR_MARK, BREAK)

    def text(self, element: etree._Element) -> str:
        """The container's clean text."""
        return clean_text(self.raw(element), self._unescape_twice)


def drop_element(element: etree._Element) -> None:
    """Remove an element and its content from its tree, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = _xml_safe((previous.tail or "") + tail)
        else:
            parent.text = _xml_safe((parent.text or "") + tail)
    parent.remove(element)


def _xml_safe(text: str) -> str:
    """lxml refuses to set text with control characters, which its HTML parser keeps from
    broken pages: those go (they are no text anyone wrote)."""
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text
