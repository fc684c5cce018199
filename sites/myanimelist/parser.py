"""MyAnimeList review pages: bytes and the page's URL in, reviews and the next page's URL out.

Reads every desktop page that carries review blocks:

- the current layout (2022 on): `div.review-element` blocks on a title's reviews tab (anime and
  manga), a title's main page, a single review (`reviews.php?id=N`), the site-wide listing
  (`reviews.php?t=anime`, each block naming its title in `div.titleblock a`) and a profile's
  reviews page;
- the old layout (2016 to 2022): `div.borderDark` blocks with the sub-score table, "N people found
  this review helpful", "N of M episodes seen" (manga: "chapters read") and the Preliminary
  marker, in both the 2016
  `div.borderLight` header and the later one.

It refuses, with one clear PageError, the mobile layout (text cut short, no scores), pages that
are no MyAnimeList page, and blocks it cannot read whole: it never guesses a review.

Speed matters (a crawl parses every page, `hoard reparse` the whole archive; `make bench` holds
it to at most twice a bare lxml parse of the same pages): page facts (mobile, paging, title) are
found in the bytes; only the span from the first review block to the next section heading is
built into a plain `lxml.etree` tree; each block is read with one or two XPath calls, and its
text with one (`parsers.text.TextReader`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast
from urllib.parse import SplitResult, urljoin, urlsplit

from lxml import etree

from reviewhoard.items import Author, Progress, Review, Subject
from reviewhoard.parsers.dates import MONTHS
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.parsers.text import BOMS, TextReader, decode_html, require_html_bytes

SITE = "myanimelist"
DOMAINS: tuple[str, ...] = ("myanimelist.net",)
PARSER_VERSION = "1"
BASE_URL = "https://myanimelist.net"
RATING_SCALE = 10

REACTION_KEYS: tuple[str, ...] = (
    "nice",
    "love_it",
    "funny",
    "confusing",
    "informative",
    "well_written",
    "creative",
)
"""The reaction counts of `data-reactions` ("count"), in MAL's order (`data-val` 1 to 7)."""
RECOMMENDATION_TAGS = frozenset({"recommended", "mixed_feelings", "not_recommended"})
MOBILE_REASON = (
    "mobile layout: review text is truncated and scores are missing; "
    "fetch with a desktop User-Agent"
)

_REVIEW_ID = re.compile(r"reviews\.php\?(?:[^\"'#]*&)?id=(\d+)")
_SUBJECT_PATH = re.compile(r"/(anime|manga)/(\d+)(?:/|$|\?)")
_PROFILE_PATH = re.compile(r"^/profile/[^/]+/reviews")
_PROGRESS_NEW = re.compile(r"\(\s*(\d+|\?)\s*/\s*(\d+|\?)\s*(eps?|chp?|chapters?|episodes?)\s*\)")
_PROGRESS_OLD = re.compile(
    r"(\d+|Unknown|\?)\s+of\s+(\d+|\?|Unknown)\s+(episodes|chapters)\s+(?:seen|read)"
)
"""Old layout's progress line: "26 of 26 episodes seen"; manga pages: "12 of 40 chapters read"."""
_HELPFUL = re.compile(r"(\d[\d,]*)\s+(?:people|person|user|users)\s+found this review helpful")
_OVERALL = re.compile(r"Overall Rating\s*:\s*(\d+(?:\.\d+)?)")
_NUMBER = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,3})?")
_DATE = re.compile(r"^([A-Za-z]{3,9})\.? (\d{1,2}), (\d{4})(?: (\d{1,2}):(\d{2}) ?([AaPp][Mm]))?$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*([AaPp][Mm])\s*$")
_MONTHS = MONTHS
_SUB_SCORE_KEYS = frozenset(
    {"overall", "story", "animation", "sound", "character", "enjoyment", "art"}
)


def _elements(expr: str) -> Callable[[etree._Element], list[etree._Element]]:
    """A compiled XPath that selects elements, typed for the callers."""
    compiled = etree.XPath(expr)

    def run(node: etree._Element) -> list[etree._Element]:
        return cast(list[etree._Element], compiled(node))

    return run


def _strings(expr: str) -> Callable[[etree._Element], list[str]]:
    """A compiled XPath that selects attribute values or text nodes, as plain strings."""
    compiled = etree.XPath(expr, smart_strings=False)

    def run(node: etree._Element) -> list[str]:
        return [str(v) for v in cast(list[object], compiled(node))]

    return run


def _text_of(element: etree._Element) -> str:
    """All the text inside a (small) element, whitespace-normalised."""
    return " ".join("".join(cast(Iterator[str], element.itertext())).split())


def _classes(element: etree._Element) -> list[str]:
    return (element.get("class") or "").split()


# Candidate matches use contains() (cheap); exact class tokens are checked in Python.
_X_NEW_BLOCKS = _elements("//div[contains(@class, 'review-element')]")
_X_OLD_BLOCKS = _elements(
    "//div[contains(@class, 'borderDark')][div[contains(@class, 'textReadability')]]"
)
_NEW_PART_WORDS = ("update_at", "username", "tags", "text", "rating", "open", "reaction", "title")
_NEW_PART_NAMES = frozenset(
    {"update_at", "username", "tags", "text", "rating", "open", "titleblock"}
)
_REACTION_PARTS = frozenset({"js-icon-reaction", "js-btn-reaction"})
# The usual places: block > thumbbody > body > part, and the bottom bar's children (Open link,
# reaction data-id). Child steps, not `.//`, so the long review text is never walked.
_X_NEW_PARTS_USUAL = _elements(
    "*/*/div[@class] | */*/div[contains(@class, 'bottom-navi')]/div[@class]"
)
# Anywhere in the block (slower): for a page whose blocks are laid out another way.
_X_NEW_PARTS_ANYWHERE = _elements(
    ".//div[@class]["
    + " or ".join(f"contains(@class, '{w}')" for w in _NEW_PART_WORDS)
    + "][not(ancestor::div[@class = 'text'])]"
)
_NEW_PARTS_NEEDED = frozenset({"update_at", "username", "text", "rating"})
# Page facts found in the bytes, without decoding the whole page.
_MORE_REVIEWS = b">More Reviews</a>"
_HREF = re.compile(rb"""\shref\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_OG_TITLE = re.compile(rb'<meta\s+property="og:title"\s+content="([^"]*)"')
_MOBILE_BODY = re.compile(rb'<body[^>]*\sclass="(?:[^"]*\s)?sp(?:\s[^"]*)?"')
_BAD_BYTES = [etree.ErrorTypes.ERR_INVALID_ENCODING, etree.ErrorTypes.ERR_INVALID_CHAR]
_TOO_DEEP = [etree.ErrorTypes.ERR_RESOURCE_LIMIT]

# Old layout, from the text container: "Overall", "10", "Story", "9", ... in table order.
_X_SCORE_CELLS = _strings("div[starts-with(@id, 'score')]//td//text()")


def _new_furniture(text_el: etree._Element) -> Iterator[etree._Element]:
    """Current layout: the "..." between the visible part and the `span.js-hidden` rest."""
    for span in text_el.iterchildren("span"):
        if "js-visible" in (span.get("class") or ""):
            yield span


def _old_furniture(text_el: etree._Element) -> Iterator[etree._Element]:
    """Old layout: the sub-score table, "read more" and the Helpful button (also inside the
    hidden rest) sit inside the text container."""
    for child in text_el.iterchildren("div", "a", "span"):
        ident, classes = child.get("id") or "", child.get("class") or ""
        if (
            ident.startswith(("score", "revhelp_output"))
            or "js-review-btn-helpful" in classes
            or (child.tag == "a" and "js-toggle-review-button" in classes)
        ):
            yield child
        elif child.tag == "span":
            for inner in child.iterchildren("div", "span"):
                inner_id = inner.get("id") or ""
                if inner_id.startswith("revhelp_output") or "js-review-btn-helpful" in (
                    inner.get("class") or ""
                ):
                    yield inner


_NEW_TEXT = TextReader(_new_furniture, unescape_twice=True)
_OLD_TEXT = TextReader(_old_furniture, unescape_twice=True)


def parse(body: bytes, url: str) -> ParsedPage:
    """Read one MyAnimeList page: its reviews in page order, the feed's next page, and its kind.

    Raises PageError (naming `url`) for the mobile layout, a page that is no MyAnimeList page, or
    a review block that cannot be read whole.
    """
    require_html_bytes(body, url)
    if body.startswith(BOMS):
        return _parse_utf8(decode_html(body, url).encode("utf-8"), url, None)
    # Nearly every page is UTF-8: it is handed to lxml as it came, and lxml's own decoding tells
    # when it was not (then the page is decoded by its BOM, charset or cp1252, and read again).
    return _parse_utf8(body, url, body)


def _parse_utf8(data: bytes, url: str, unverified: bytes | None) -> ParsedPage:
    """`parse` on bytes taken as UTF-8; `unverified` is the original body while that is not
    yet known to be true."""
    body_at = data.find(b"<body", 0, 400_000)
    if body_at >= 0 and _MOBILE_BODY.match(data, body_at):
        raise PageError(MOBILE_REASON, url)
    kind = _page_kind(url)
    # Only the part with the review blocks is built into a tree: the page head, menus and title
    # details before it (a third of the bytes) and the sections after it hold nothing a review
    # needs.
    span = _blocks_span(data)
    if span is None:
        # No block tag of either layout: the page is read by its text alone, without a tree.
        return _empty_page(data, kind, url)
    start, end = span
    # One parser per call: lxml parsers must not be shared between threads, and its error log
    # tells whether the bytes really were UTF-8. The encoding is forced, so a wrong
    # `<meta charset>` cannot make lxml decode the page a second way.
    # huge_tree lifts libxml2's nesting limit (256) to 2048; past that it stops reading, and a
    # tree it stopped reading is refused below, never half-read.
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(data[start:end], parser)
    except (etree.LxmlError, ValueError) as exc:
        raise PageError(f"not an HTML page ({exc}): check the file", url) from None
    if parser.error_log.filter_types(_TOO_DEEP):
        raise PageError(
            "the page nests elements deeper than the HTML parser reads (libxml2's limit): "
            "refused rather than read in part; check the page",
            url,
        )
    if unverified is not None and parser.error_log.filter_types(_BAD_BYTES):
        return _parse_utf8(decode_html(unverified, url).encode("utf-8"), url, None)
    if root is None:
        raise PageError("not an HTML page (no elements in it): check the file", url)
    new_blocks = [b for b in _X_NEW_BLOCKS(root) if "review-element" in _classes(b)]
    if new_blocks and any(
        "review-box" in (a.get("class") or "") for a in new_blocks[0].iterchildren("a")
    ):
        raise PageError(MOBILE_REASON, url)  # a phone's blocks are one link each
    old_blocks: list[etree._Element] = []
    if not new_blocks and data.find(b"textReadability", start, end) >= 0:
        old_blocks = [b for b in _X_OLD_BLOCKS(root) if "borderDark" in _classes(b)]
        if not old_blocks:
            raise PageError(
                "old layout: review texts (div.textReadability) without the review blocks "
                "around them: a layout this parser does not know; check the page and the parser",
                url,
            )
    blocks = new_blocks or old_blocks
    if not blocks:
        return _empty_page(data, kind, url)
    if _is_cut_short(data):
        raise PageError(
            "page is cut short (no closing </html>): its last review may be partial; "
            "fetch it again",
            url,
        )
    _refuse_nested(blocks, url)
    page_subject = _page_subject(data, url)
    block_type: type[_Block] = _NewBlock if new_blocks else _OldBlock
    reviews = [block_type(block, url, page_subject).review() for block in blocks]
    next_url = _next_url(data, url) if kind in ("reviews_tab", "listing", "profile") else None
    return ParsedPage(reviews=reviews, next_url=next_url, block_count=len(blocks), kind=kind)


def _blocks_span(data: bytes) -> tuple[int, int] | None:
    """Where the review blocks are in the page bytes: from the first block's opening tag to the
    next section heading (`<h2`) after the last block opens, else to the end; None when no block
    tag of either layout is there. Review text cannot
    hold a raw `<h2` (MAL escapes what authors type), and a block cut by a heading in its own
    furniture would miss its rating and fail loudly, never quietly."""
    for marker in (b"review-element", b"borderDark"):
        first = _block_tag_at(data, marker, data.find(marker), forward=True)
        if first < 0:
            continue
        last = _block_tag_at(data, marker, data.rfind(marker), forward=False)
        heading = data.find(b"<h2", max(first, last))
        return first, heading if heading >= 0 else len(data)
    # The old layout's text class alone (blocks around it of an unknown kind): the whole page.
    return (0, len(data)) if b"textReadability" in data else None


def _block_tag_at(data: bytes, marker: bytes, at: int, forward: bool) -> int:
    """The start of the `<div ...>` tag whose class holds `marker`, searching from `at` on (or
    back); -1 when there is none (the marker only appears in scripts or styles)."""
    while at >= 0:
        tag_start = data.rfind(b"<", 0, at)
        if (
            tag_start >= 0
            and data.startswith(b"<div", tag_start)
            and b">" not in data[tag_start:at]
        ):
            return tag_start
        at = data.find(marker, at + 1) if forward else data.rfind(marker, 0, at)
    return -1


def _is_cut_short(data: bytes) -> bool:
    """A whole document (it opened `<html`) that never closes it was cut in transfer."""
    return b"<html" in data[:2048].lower() and b"</html" not in data[-8192:].lower()


def _refuse_nested(blocks: list[etree._Element], url: str) -> None:
    """Unclosed markup can swallow the next block into this one: then which part belongs to
    which review is unclear, and nothing from the page may be trusted."""
    block_set = set(blocks)
    for block in blocks:
        if any(ancestor in block_set for ancestor in block.iterancestors("div")):
            raise PageError(
                "review blocks are nested in one another (unclosed markup): which part belongs "
                "to which review is unclear; fetch the page again",
                url,
            )


def _page_kind(url: str) -> str:
    parts = _split(url)
    path = parts.path.rstrip("/")
    if path.endswith("/reviews.php") or path == "reviews.php":
        return "review" if "id=" in parts.query else "listing"
    if _PROFILE_PATH.match(path):
        return "profile"
    if _SUBJECT_PATH.search(path + "/"):
        return "reviews_tab" if path.endswith("/reviews") else "title_main"
    return "unknown"


def _empty_page(data: bytes, kind: str, url: str) -> ParsedPage:
    """No review blocks: fine where the page says so; else a layout change or a wrong page."""
    if not any(data.find(name, 0, 400_000) >= 0 for name in (b"MyAnimeList", b"myanimelist")):
        raise PageError("not a MyAnimeList page (no review blocks, no MyAnimeList markup)", url)
    if b"No reviews have been submitted" in data or kind == "title_main":
        return ParsedPage(reviews=[], next_url=None, block_count=0, kind=kind)
    if kind in ("reviews_tab", "listing", "profile", "review"):
        raise PageError(
            f"no review blocks on a {kind} page and no 'no reviews' notice: the layout may have "
            "changed; check the page and the parser",
            url,
        )
    raise PageError("not a MyAnimeList review page (no review blocks found)", url)


def _page_subject(data: bytes, url: str) -> Subject | None:
    """The title a title page is about: type and id from the URL, title from og:title."""
    match = _SUBJECT_PATH.search(_split(url).path + "/")
    if not match:
        return None
    kind, sid = match.groups()
    og_title = _OG_TITLE.search(data, 0, 400_000)
    title = _attribute_text(og_title.group(1)) or None if og_title else None
    return Subject(type=kind, id=sid, title=title, url=f"{BASE_URL}/{kind}/{sid}")


def _subject_from_link(titleblock: etree._Element | None) -> Subject | None:
    if titleblock is None:
        return None
    for link in titleblock.iter("a"):
        match = _SUBJECT_PATH.search(_split(link.get("href") or "").path + "/")
        if match:
            kind, sid = match.groups()
            title = _text_of(link) or None
            return Subject(type=kind, id=sid, title=title, url=f"{BASE_URL}/{kind}/{sid}")
    return None


def _next_url(data: bytes, url: str) -> str | None:
    """The feed's "More Reviews" link (the `<a>` tag it is the text of), resolved against `url`."""
    at = data.find(_MORE_REVIEWS)
    while at >= 0:
        tag_start = data.rfind(b"<a", max(0, at - 2000), at)
        tag = data[tag_start:at] if tag_start >= 0 else b""
        href = _HREF.search(tag) if tag and b"<" not in tag[1:] else None
        if href:
            target = _attribute_text(href.group(1) or href.group(2) or b"")
            if target and not target.startswith(("#", "javascript:")):
                return _absolute(url, target)
        at = data.find(_MORE_REVIEWS, at + 1)
    return None


def _attribute_text(raw: bytes) -> str:
    """An attribute value from the page bytes: decoded, entities resolved, spaces normalised."""
    return " ".join(html.unescape(raw.decode("utf-8", errors="replace")).split())


def _review_id_from(hrefs: Iterable[str]) -> str | None:
    for href in hrefs:
        match = _REVIEW_ID.search(href)
        if match:
            return match.group(1)
    return None


def _published_at(date_text: str, time_text: str | None) -> str | None:
    """'Aug 24, 2008' (+ '5:46 AM') -> '2008-08-24T05:46:00'; None when it is no date."""
    match = _DATE.match(" ".join(date_text.split()))
    if not match:
        return None
    month = _MONTHS.get(match.group(1).lower())
    day, year = int(match.group(2)), int(match.group(3))
    if month is None or not 1 <= day <= 31:
        return None
    date = f"{year:04d}-{month:02d}-{day:02d}"
    if match.group(4):
        clock: tuple[str, str, str] | None = (match.group(4), match.group(5), match.group(6))
    else:
        found = _TIME.match(time_text or "")
        clock = (found.group(1), found.group(2), found.group(3)) if found else None
    if clock is None:
        return date
    hour, minute = int(clock[0]), int(clock[1])
    if not (1 <= hour <= 12 and minute <= 59):
        return date
    hour = hour % 12 + (12 if clock[2].lower() == "pm" else 0)
    return f"{date}T{hour:02d}:{minute:02d}:00"


def _number(text: str) -> int | float | None:
    """'10' -> 10, '7.5' -> 7.5; None for anything else (no NaN, no infinity, no words)."""
    match = _NUMBER.fullmatch(text.strip().replace(",", ""))
    if not match:
        return None
    value = float(match.group(0))
    return int(value) if value.is_integer() else value


def _split(url: str) -> SplitResult:
    """urlsplit that never raises: a malformed address (`http://[x`) splits as an empty one."""
    try:
        return urlsplit(url)
    except ValueError:
        return urlsplit("")


def _absolute(base: str, href: str) -> str | None:
    """`href` resolved against `base`, or None when it is no valid address."""
    href = href.strip()
    if base == BASE_URL and href.startswith("https://myanimelist.net/") and "/." not in href:
        return href  # the common case, already absolute: urljoin would only cost time
    try:
        return urljoin(base, href)
    except ValueError:
        return None


class _Block:
    """One review block; subclasses read one layout. Every getter raises PageError when missing."""

    layout = ""

    def __init__(self, element: etree._Element, url: str, page_subject: Subject | None) -> None:
        self.el = element
        self.url = url
        self.page_subject = page_subject
        self.titleblock: etree._Element | None = None
        self.review_id = self._review_id()

    def _review_id(self) -> str:
        raise NotImplementedError

    def fail(self, what: str) -> PageError:
        """A PageError naming this block: which review (or which block) lacks what."""
        who = f"review {self.review_id}" if getattr(self, "review_id", None) else "a review block"
        reason = f"{self.layout} layout: {who} has no {what}; nothing from it was kept"
        return PageError(reason, self.url)

    def subject(self) -> Subject:
        subject = _subject_from_link(self.titleblock) or self.page_subject
        if subject is None:
            raise self.fail("reviewed title (no div.titleblock link and no title in the page URL)")
        return subject

    def review(self) -> Review:
        """The whole review, or PageError naming what this block lacks."""
        return Review(
            site=SITE,
            review_id=self.review_id,
            url=f"{BASE_URL}/reviews.php?id={self.review_id}",
            subject=self.subject(),
            author=self._author(),
            published_at=self._published_at(),
            text=self._text(),
            rating=self._rating(),
            rating_scale=RATING_SCALE,
            **self._layout_fields(),
        )

    def _author(self) -> Author:
        raise NotImplementedError

    def _published_at(self) -> str:
        raise NotImplementedError

    def _text(self) -> str:
        raise NotImplementedError

    def _rating(self) -> int | float:
        raise NotImplementedError

    def _layout_fields(self) -> dict[str, Any]:
        """The fields that only one layout has (tags, reactions, sub-scores...)."""
        raise NotImplementedError


class _NewBlock(_Block):
    """A `div.review-element` block of the 2022+ layout, its parts found in one XPath call."""

    layout = "current"

    def __init__(self, element: etree._Element, url: str, page_subject: Subject | None) -> None:
        self.parts: dict[str, etree._Element] = {}
        self.reaction_ids: list[str] = []
        self._find_parts(_X_NEW_PARTS_USUAL(element))
        if not self.parts.keys() >= _NEW_PARTS_NEEDED or (
            page_subject is None and "titleblock" not in self.parts
        ):
            self._find_parts(_X_NEW_PARTS_ANYWHERE(element))
        super().__init__(element, url, page_subject)
        self.titleblock = self.parts.get("titleblock")

    def _find_parts(self, candidates: list[etree._Element]) -> None:
        for part in candidates:
            for name in _classes(part):
                if name in _REACTION_PARTS:
                    self.reaction_ids.append((part.get("data-id") or "").strip())
                elif name in _NEW_PART_NAMES:
                    self.parts.setdefault(name, part)

    def _review_id(self) -> str:
        # Ids come from the block's own furniture, never from links an author put in the text.
        found = None
        if "open" in self.parts:
            found = _review_id_from(a.get("href") or "" for a in self.parts["open"].iter("a"))
        if found is None:
            found = next((i for i in self.reaction_ids if i.isdigit()), None)
        if found is None and _page_kind(self.url) == "review":
            found = _review_id_from([self.url])
        if found is None:
            raise PageError(
                "current layout: a review block has no review id (no Open link, no reaction "
                "data-id): the page is cut short or the layout changed; nothing from it was kept",
                self.url,
            )
        return found

    def _layout_fields(self) -> dict[str, Any]:
        tags, progress = self._tags()
        return {
            "recommendation": next((t for t in tags if t in RECOMMENDATION_TAGS), None),
            "tags": tags,
            "is_spoiler": "spoiler" in tags,
            "is_preliminary": "preliminary" in tags,
            "progress": progress,
            "reactions": self._reactions(),
            "helpful_count": None,
            "sub_scores": None,
        }

    def _author(self) -> Author:
        username = self.parts.get("username")
        for link in username.iter("a") if username is not None else ():
            name = _text_of(link)
            if name:
                href = link.get("href")
                return Author(name=name, url=_absolute(BASE_URL, href) if href else None)
        raise self.fail("author (div.username a)")

    def _published_at(self) -> str:
        div = self.parts.get("update_at")
        published = _published_at(_text_of(div), div.get("title")) if div is not None else None
        if published is None:
            raise self.fail("date (div.update_at)")
        return published

    def _tags(self) -> tuple[list[str], Progress | None]:
        tags: list[str] = []
        progress: Progress | None = None
        container = self.parts.get("tags")
        for tag in container.iterchildren("div") if container is not None else ():
            classes = _classes(tag)
            if "tag" not in classes:
                continue
            names = [c for c in classes if c not in ("tag", "btn-label", "js-btn-label")]
            if not names:
                continue
            slug = names[0].lower().replace("-", "_")
            tags.append(slug)
            if slug == "preliminary":
                progress = _new_progress(_text_of(tag))
        return tags, progress

    def _text(self) -> str:
        container = self.parts.get("text")
        if container is None:
            raise self.fail("text (div.text)")
        text = _NEW_TEXT.text(container)
        if not text:
            raise self.fail("text (div.text is empty)")
        return text

    def _rating(self) -> int | float:
        rating = self.parts.get("rating")
        for span in rating.iter("span") if rating is not None else ():
            if "num" in _classes(span):
                value = _number(_text_of(span))
                if value is not None:
                    return value
        raise self.fail("rating (div.rating span.num)")

    def _reactions(self) -> dict[str, int]:
        raw = (self.el.get("data-reactions") or "").strip()
        if not raw:
            return dict.fromkeys(REACTION_KEYS, 0)
        try:
            counts = json.loads(raw)["count"]
            values = [int(c) for c in counts]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise self.fail("readable reactions (data-reactions is not the known JSON)") from None
        if len(values) != len(REACTION_KEYS):
            raise self.fail(f"seven reaction counts (data-reactions has {len(values)})")
        return dict(zip(REACTION_KEYS, values, strict=True))


def _new_progress(tag_text: str) -> Progress | None:
    match = _PROGRESS_NEW.search(tag_text)
    if not match:
        return None
    seen, total, unit = match.groups()
    return Progress(
        seen=None if seen == "?" else int(seen),
        total=None if total == "?" else int(total),
        unit="chapters" if unit.startswith("ch") else "episodes",
    )


class _OldBlock(_Block):
    """A `div.borderDark` block of the 2016-2022 layout (header table, sub-scores, helpful).

    Its children are the header, the text (div.textReadability) and the footer (permalink);
    header and footer are small and read in one pass each, without walking the long text.
    """

    layout = "old"

    def __init__(self, element: etree._Element, url: str, page_subject: Subject | None) -> None:
        self.links: list[etree._Element] = []
        self.leaf_divs: list[etree._Element] = []
        self.is_preliminary = False
        pieces: list[str] = [element.text or ""]
        text_el: etree._Element | None = None
        for child in element:
            if text_el is None and "textReadability" in (child.get("class") or ""):
                text_el = child
            elif isinstance(child.tag, str):
                pieces.extend(cast(Iterator[str], child.itertext()))
                for node in child.iter("a", "div"):
                    if node.tag == "a":
                        self.links.append(node)
                    elif len(node) == 0:
                        self.leaf_divs.append(node)
                    elif (
                        len(node) == 1
                        and node[0].tag == "i"
                        and (node[0].tail or "").strip() == "Preliminary"
                    ):
                        # its own line after a tag icon; a word in a user name is not the marker
                        self.is_preliminary = True
            pieces.append(child.tail or "")
        if text_el is None:
            raise PageError("old layout: a review block has no text container", url)
        self.text_el = text_el
        # The header's words hold the date, "N of M episodes seen", rating, helpful count...
        self.header_text = " ".join(" ".join(pieces).split())
        super().__init__(element, url, page_subject)
        # read before the text: reading the text drops the score table from the tree
        self.sub_scores = self._sub_scores()

    def _review_id(self) -> str:
        # The permalink closes the block, after the text: without it the block may be cut short.
        found = _review_id_from(link.get("href") or "" for link in self.links)
        if found is None:
            raise PageError(
                "old layout: a review block has no permalink (reviews.php?id=N): the page is cut "
                "short or the layout changed; nothing from it was kept",
                self.url,
            )
        return found

    def _layout_fields(self) -> dict[str, Any]:
        is_preliminary = self.is_preliminary
        return {
            "recommendation": None,
            "tags": ["preliminary"] if is_preliminary else [],
            "is_spoiler": None,
            "is_preliminary": is_preliminary,
            "progress": self._progress(),
            "reactions": None,
            "helpful_count": self._helpful(),
            "sub_scores": self.sub_scores,
        }

    def _author(self) -> Author:
        for link in self.links:
            href = link.get("href") or ""
            if "/profile/" not in href or href.rstrip("/").endswith("/reviews"):
                continue
            name = _text_of(link)
            if name:
                return Author(name=name, url=_absolute(BASE_URL, href))
        raise self.fail("author (profile link)")

    def _published_at(self) -> str:
        for div in self.leaf_divs:
            published = _published_at(_text_of(div), div.get("title"))
            if published:
                return published
        raise self.fail("date")

    def _progress(self) -> Progress | None:
        match = _PROGRESS_OLD.search(self.header_text)
        if not match:
            return None
        seen, total, unit = match.groups()
        if not seen.isdigit():
            return None
        return Progress(seen=int(seen), total=int(total) if total.isdigit() else None, unit=unit)

    def _helpful(self) -> int | None:
        match = _HELPFUL.search(self.header_text)
        return int(match.group(1).replace(",", "")) if match else None

    def _rating(self) -> int | float:
        match = _OVERALL.search(self.header_text)
        value = _number(match.group(1)) if match else None
        if value is None:
            raise self.fail("rating ('Overall Rating: N')")
        return value

    def _sub_scores(self) -> dict[str, int | float] | None:
        cells = [c.strip() for c in _X_SCORE_CELLS(self.text_el)]
        cells = [c for c in cells if c]
        scores: dict[str, int | float] = {}
        for key, value in zip(cells[::2], cells[1::2], strict=False):
            number = _number(value)
            key = key.lower()
            if key in _SUB_SCORE_KEYS and number is not None:
                scores[key] = number
        return scores or None

    def _text(self) -> str:
        text = _OLD_TEXT.text(self.text_el)
        if not text:
            raise self.fail("text")
        return text


__all__ = ["DOMAINS", "MOBILE_REASON", "PARSER_VERSION", "REACTION_KEYS", "SITE", "parse"]
