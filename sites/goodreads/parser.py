"""Goodreads book reviews pages: bytes and the page's URL in, reviews and the next page out.

Reads two layouts:

- the current page `https://www.goodreads.com/book/show/ID[-.]SLUG/reviews`, a Next.js page. Its
  reviews come from `script#__NEXT_DATA__` → `props.pageProps.apolloState`, Apollo's normalised
  cache: `ROOT_QUERY.getReviews.edges[].node.__ref` → `Review` objects in page order (creator,
  creation time, spoiler flag, text HTML, rating, shelving, likes, comments) and
  `ROOT_QUERY.getBookByLegacyId(...)` → the `Book`. The 30 visible `article.ReviewCard` blocks hold
  the same reviews, but their date is the last revision, not the creation: a card page without
  its `__NEXT_DATA__` is refused. The server renders 30 reviews and no link to more, so the page
  has no next page;
- the old reviews fragment (to 2020, `/book/reviews/ID?...&page=N`): `div.review#review_N`
  blocks with star spans, "Mar 24, 2013" dates, "186 likes" and "View all 34 comments"; 30 a
  page, at most 10 pages.

Speed: on the current page no HTML tree is built. The `__NEXT_DATA__` script is found in the
bytes and its JSON loaded as it is (a `<script>` holds raw text); the cards are only counted
(`class="ReviewCard"`) to check they agree with the data; each review's text HTML (a few KB) is
parsed on its own. A page cut short (no `</html>` after the data) is refused. The old fragment
is built into a tree from its first review block on; each block's parts are found by walking
its three small sections in Python. Review text is read with marks set into the tree and one
`itertext()` pass, not element by element.

Refused with one PageError naming the page: a challenge or block page (reason starting with
"blocked:"), a card page without `__NEXT_DATA__`, a cut page, JSON that does not load, data that
lacks what a review needs, a card count that disagrees with the data, an old block missing a
part. Never a partial or guessed review.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeGuard, cast

from lxml import etree

from reviewhoard.items import Author, Review, Subject
from reviewhoard.parsers.dates import MONTHS
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.parsers.text import (
    BOMS,
    BREAK,
    clean_text,
    decode_html,
    decode_page,
    drop_element,
    require_html_bytes,
)
from reviewhoard.sites.goodreads.feeds import (
    CANONICAL,
    FRAGMENT_MAX_PAGE,
    FRAGMENT_PAGE_SIZE,
    SUBJECT_TYPE,
    book_url,
    fragment_page_number,
    fragment_page_url,
)

SITE = "goodreads"
PARSER_VERSION = "1"
RATING_SCALE = 5
REACTION_KEYS: tuple[str, ...] = ("likes", "comments")
"""Goodreads' reader reactions: likes and comments."""
KIND = "book_reviews"
OLD_KIND = "reviews_fragment"
NEXT_PAGE_ROUTE = "/book/show/[book_id]/reviews"
"""The Next.js route of a book's reviews page (`__NEXT_DATA__.page`)."""

# --- the current page: found in the bytes -------------------------------------------------------
_NEXT_DATA_ID = b"__NEXT_DATA__"
_NEXT_DATA_TAG = re.compile(rb"""<script\b[^>]*?\bid\s*=\s*["']?__NEXT_DATA__["'\s>/]""", re.I)
_SCRIPT_END = re.compile(rb"</script", re.I)
_HTML_END = re.compile(rb"</html\s*>", re.I)
_CARD = b'class="ReviewCard"'
"""The class of each `article.ReviewCard` (review text in a card is escaped: it cannot hold it)."""
_REVIEW_URL = re.compile(r"https?://(?:www\.)?goodreads\.com/review/show/([0-9]{1,20})(?:[/?#].*)?")
_KCA_REVIEW = re.compile(r"kca://review[:/]\S{1,200}")

# --- challenge and block pages --------------------------------------------------------------------
_TITLE = re.compile(rb"<title\b[^>]*>(.{0,400}?)</title", re.I | re.S)
_TITLE_SPAN = 65536
"""Bytes from the start in which the `<title>` is looked for (a challenge page is small)."""
_BLOCKED_TITLES = (
    (b"just a moment", "a Cloudflare challenge ('Just a moment...')"),
    (b"attention required", "a Cloudflare block page ('Attention Required')"),
    (b"robot check", "Amazon's robot check"),
    (b"are you a robot", "a robot check"),
    (b"captcha", "a CAPTCHA page"),
    (b"verify you are human", "a human-verification page"),
    (b"request could not be satisfied", "a CloudFront block page ('Request blocked')"),
    (b"request blocked", "a 'Request blocked' page"),
    (b"access denied", "an 'Access denied' page"),
    (b"403 forbidden", "a '403 Forbidden' page"),
    (b"too many requests", "a rate-limit page ('Too Many Requests')"),
    (b"rate limited", "a rate-limit page"),
)
_CHALLENGE_MARKS = (
    (b"challenge-platform", "a Cloudflare challenge"),
    (b"cf_chl_", "a Cloudflare challenge"),
    (b"awswafintegration", "an AWS WAF challenge"),
    (b"gokuprops", "an AWS WAF challenge"),
    (b"/errors/validatecaptcha", "Amazon's robot check"),
    (b"captcha", "a CAPTCHA page"),
)
_SMALL_PAGE = 200_000
"""A page without review data this small may be a challenge: its bytes are searched for marks."""

# --- the old fragment -----------------------------------------------------------------------------
_OLD_BLOCK = re.compile(rb"""<div\s+id=["']review_[0-9]+["']\s+class=["']review\b""")
_SHOWING = re.compile(rb"Showing ([0-9][0-9,]{0,9})-([0-9][0-9,]{0,9})")
_OLD_MARKS = (b"freeTextContainer", b"ReactComponents.ReviewCta")
_REVIEW_CTA = re.compile(
    rb"""data-react-class=["']ReactComponents\.ReviewCta["']\s+data-react-props=["']([^"']*)["']"""
)
_BOOK_PATH = re.compile(r"/book/(?:show|reviews)/([0-9]{1,12})(?:[-._/?#]|$)")
_OLD_ID = re.compile(r"review_([0-9]{1,20})")
_FREE_TEXT = re.compile(r"freeText[0-9]+")
_COUNT = re.compile(r"([0-9][0-9,]{0,12})\s+(likes?|comments?)\b")
_OLD_DATE = re.compile(r"([A-Za-z]{3,9})\.? ([0-9]{1,2}), ([0-9]{4})")
_MONTHS = MONTHS
_STAR_LABELS = {
    "did not like it": 1,
    "it was ok": 2,
    "liked it": 3,
    "really liked it": 4,
    "it was amazing": 5,
}
"""The label of a reviewer's stars (`span.staticStars[title]`) and the count it stands for."""
_DEPTH_ERRORS = [etree.ErrorTypes.ERR_RESOURCE_LIMIT]
_BAD_BYTES = [etree.ErrorTypes.ERR_INVALID_ENCODING, etree.ErrorTypes.ERR_INVALID_CHAR]
# The parts of an old block, in one call (none of them inside the review text).
_OLD_SECTIONS = ("reviewHeader", "reviewText", "reviewFooter")
"""The three parts of an old block's body (`div.bodycol`), in page order."""

# --- review text ----------------------------------------------------------------------------------
_PARAGRAPH = BREAK + BREAK
"""A paragraph edge: `clean_text` folds runs of them into one blank line, none at the ends."""
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "div",
        "blockquote",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "pre",
        "hr",
        "center",
        "section",
        "article",
        "figure",
    }
)
"""Elements that are paragraphs of their own (a blank line before and after)."""
_SKIP_TAGS = frozenset(
    {
        "img",
        "script",
        "style",
        "noscript",
        "input",
        "button",
        "select",
        "textarea",
        "iframe",
        "object",
        "embed",
        "video",
        "audio",
        "svg",
        "head",
        "title",
    }
)
"""Elements whose content is never review text (images are nothing; a spoiler's checkbox is an
`<input>`, its `<label>` holds the text and stays)."""
_LINE_MARK = "\ufdd0"
_PARAGRAPH_MARK = "\ufdd1"
"""Unicode noncharacters set into a tree's text for `<br>` and paragraph edges (lxml refuses
the control characters `clean_text` uses)."""
_SPACES = ("\n", "\t", "\r", "\f", "\v", "\xa0")
"""Source whitespace and no-break spaces: each a space in review text."""
_SPACE_RUN = re.compile(" {2,}")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def parse(body: bytes, url: str) -> ParsedPage:
    """Read one Goodreads reviews page: its reviews in page order, the next page, and its kind.

    Raises PageError (naming `url`) for a challenge/block page ("blocked: ..."), a card page
    without `__NEXT_DATA__`, a page cut short, malformed data, or a review it cannot read whole.
    """
    require_html_bytes(body, url)
    if body.startswith(BOMS):  # the byte searches below need the UTF-8 form
        text, _ = decode_page(body, url)
        body = text.encode("utf-8", errors="replace")
    tag = _find_next_data(body)
    if tag is not None:
        return _parse_current(body, tag.end(), url)
    if _CARD in body:
        _refuse_cut(body, url)
        raise PageError(
            "review cards (article.ReviewCard) without their __NEXT_DATA__ script: the cards "
            "show the last revision's date, not the creation date; fetch the whole page",
            url,
        )
    if _OLD_BLOCK.search(body) or any(mark in body for mark in _OLD_MARKS):
        return _parse_old(body, url)
    _refuse_blocked(body, url)
    _refuse_cut(body, url)
    raise PageError(
        "not a Goodreads book reviews page (no __NEXT_DATA__ script, no review cards, no "
        "old-layout review blocks), or the layout changed",
        url,
    )


# --- the current page -------------------------------------------------------------------------


def _find_next_data(body: bytes) -> re.Match[bytes] | None:
    """The `<script id="__NEXT_DATA__" ...` start tag: the id is found by bytes (a regex scan of
    the whole page costs more than loading the JSON), then its tag is checked."""
    at = body.find(_NEXT_DATA_ID)
    while at >= 0:
        tag = _NEXT_DATA_TAG.match(body, max(0, body.rfind(b"<", 0, at)))
        if tag is not None and tag.end() == at + len(_NEXT_DATA_ID) + 1:
            return tag
        at = body.find(_NEXT_DATA_ID, at + 1)
    return None


def _refuse_cut(body: bytes, url: str) -> None:
    """A whole document (it opened `<html`) that never closes it was cut in transfer."""
    if b"<html" in body[:4096].lower() and not _HTML_END.search(body, max(0, len(body) - 65536)):
        raise PageError("page is cut short (it ends before </html>): fetch it again", url)


def _refuse_blocked(body: bytes, url: str) -> None:
    """A challenge, CAPTCHA or rate-limit page: PageError "blocked: ..." naming what it is."""
    title = _TITLE.search(body, 0, _TITLE_SPAN)
    words = b" ".join(title.group(1).lower().split()) if title else b""
    what = next((what for mark, what in _BLOCKED_TITLES if mark in words), None)
    if what is None and len(body) < _SMALL_PAGE:
        lowered = body.lower()
        what = next((what for mark, what in _CHALLENGE_MARKS if mark in lowered), None)
    if what is not None:
        raise PageError(
            f"blocked: Goodreads answered with {what} instead of the reviews page; "
            "slow down and fetch it again later",
            url,
        )


def _parse_current(body: bytes, data_at: int, url: str) -> ParsedPage:
    """The reviews of a book's reviews page from its `__NEXT_DATA__` (which starts at
    `data_at`, just inside the script's start tag)."""
    open_end = body.find(b">", data_at - 1)
    close = _SCRIPT_END.search(body, open_end + 1) if open_end >= 0 else None
    if close is None or not _HTML_END.search(body, close.end()):
        raise PageError("page is cut short (it ends before </html>): fetch it again", url)
    try:
        data = json.loads(body[open_end + 1 : close.start()])
    except RecursionError:
        raise PageError("__NEXT_DATA__ is nested too deeply to read", url) from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise PageError(f"__NEXT_DATA__ is not valid JSON ({exc})", url) from None
    if not isinstance(data, dict):
        raise PageError("__NEXT_DATA__ is not a JSON object", url)
    route = data.get("page")
    if route != NEXT_PAGE_ROUTE:
        raise PageError(
            f"__NEXT_DATA__ is of the Next.js page {route!r}, not a book's reviews page "
            f"({NEXT_PAGE_ROUTE})",
            url,
        )
    state = _dig(data, ("props", "pageProps", "apolloState"), url)
    root = _dig(state, ("ROOT_QUERY",), url)
    subject = _book(state, root, url)
    edges = _review_edges(root, url)
    cards = body.count(_CARD, 0, data_at)
    if cards != len(edges):
        raise PageError(
            f"the page shows {cards} review cards but its __NEXT_DATA__ lists {len(edges)} "
            "reviews: they should be the same reviews; fetch the page again",
            url,
        )
    parser = _fragment_parser()
    reviews = [_current_review(state, edge, subject, parser, url) for edge in edges]
    return ParsedPage(reviews=reviews, next_url=None, block_count=len(edges), kind=KIND)


def _dig(data: Any, path: tuple[str, ...], url: str) -> dict[str, Any]:
    """`data[path[0]][path[1]]...` when it is a JSON object; PageError naming the path."""
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise PageError(f"__NEXT_DATA__ has no {'.'.join(path)} object: the layout changed", url)
    return node


def _resolve(state: dict[str, Any], ref: Any, what: str, url: str) -> dict[str, Any]:
    """The Apollo cache object a `{"__ref": KEY}` points to; PageError when it is not there."""
    key = ref.get("__ref") if isinstance(ref, dict) else None
    node = state.get(key) if isinstance(key, str) else None
    if not isinstance(node, dict):
        raise PageError(f"__NEXT_DATA__ has no {what} for the reference {ref!r}", url)
    return node


def _book(state: dict[str, Any], root: dict[str, Any], url: str) -> Subject:
    """The book of `ROOT_QUERY.getBookByLegacyId(...)`: id its `legacyId` (as in public URLs)."""
    refs = [value for key, value in root.items() if key.startswith("getBookByLegacyId(")]
    if len(refs) != 1:
        raise PageError(
            f"__NEXT_DATA__ names {len(refs)} books (getBookByLegacyId) where one is expected",
            url,
        )
    book = _resolve(state, refs[0], "Book", url)
    legacy = book.get("legacyId")
    if isinstance(legacy, str) and legacy.isascii() and legacy.isdigit():
        legacy = int(legacy)
    if not _is_int(legacy) or legacy <= 0:
        raise PageError(f"the Book has no numeric legacyId ({legacy!r})", url)
    title = book.get("title")
    web_url = book.get("webUrl")
    return Subject(
        type=SUBJECT_TYPE,
        id=str(legacy),
        title=(" ".join(title.split()) or None) if isinstance(title, str) else None,
        url=web_url if isinstance(web_url, str) and web_url.startswith("http") else None,
    )


def _review_edges(root: dict[str, Any], url: str) -> list[Any]:
    """`ROOT_QUERY.getReviews.edges`, in page order."""
    lists = [v for k, v in root.items() if k == "getReviews" or k.startswith("getReviews(")]
    if len(lists) != 1 or not isinstance(lists[0], dict):
        raise PageError(
            f"__NEXT_DATA__ has {len(lists)} review lists (getReviews) where one is expected: "
            "not a book's reviews page, or the layout changed",
            url,
        )
    edges = lists[0].get("edges")
    if not isinstance(edges, list):
        raise PageError("__NEXT_DATA__ getReviews has no edges list: the layout changed", url)
    return edges


def _current_review(
    state: dict[str, Any],
    edge: Any,
    subject: Subject,
    parser: etree.HTMLParser,
    url: str,
) -> Review:
    """One `Review` of the Apollo cache; PageError when a field the record needs is missing."""
    node = edge.get("node") if isinstance(edge, dict) else None
    raw = _resolve(state, node, "Review", url)
    own_id = raw.get("id")
    if not isinstance(own_id, str) or not _KCA_REVIEW.fullmatch(own_id):
        raise PageError(f"a Review has no usable id ({own_id!r}); nothing was kept", url)

    def bad(what: str) -> PageError:
        return PageError(f"review {own_id} has {what}; nothing from the page was kept", url)

    shelving = raw.get("shelving")
    if shelving is not None and not isinstance(shelving, dict):
        raise bad(f"an unreadable shelving ({shelving!r})")
    shelving = shelving or {}
    web_url = shelving.get("webUrl")
    number = _REVIEW_URL.fullmatch(web_url) if isinstance(web_url, str) else None
    # A restricted reviewer's review has no shelving (and no counts): it keeps Goodreads' own
    # id and has no URL of its own, but it is never dropped.
    review_id = number.group(1) if number else own_id
    review_url = f"{CANONICAL}/review/show/{review_id}" if number else None

    user = _resolve(state, raw.get("creator"), "User (creator)", url)
    name = user.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("no author name (creator.name)")
    profile = user.get("webUrl")
    created = _utc(raw.get("createdAt"))
    if created is None:
        raise bad(f"no usable createdAt ({raw.get('createdAt')!r})")
    rating = raw.get("rating")
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)
    if not _is_int(rating) or not 0 <= rating <= RATING_SCALE:
        raise bad(f"no rating from 0 to {RATING_SCALE} ({rating!r})")
    spoiler = raw.get("spoilerStatus")
    if not isinstance(spoiler, bool):
        raise bad(f"no spoilerStatus ({spoiler!r})")
    text = raw.get("text")
    if not isinstance(text, str):
        raise bad("no text")
    likes, comments = raw.get("likeCount"), raw.get("commentCount")
    if likes is None and comments is None:
        reactions = None
    elif _is_count(likes) and _is_count(comments):
        reactions = {"likes": likes, "comments": comments}
    else:
        raise bad(f"unreadable likes/comments counts ({likes!r}, {comments!r})")
    return Review(
        site=SITE,
        review_id=review_id,
        url=review_url,  # None where the review has no /review/show/N address
        subject=subject,
        author=Author(
            name=name.strip(),
            url=profile if isinstance(profile, str) and profile.startswith("http") else None,
        ),
        published_at=created,
        text=_html_text(text, parser, url),
        rating=rating or None,  # 0 is "no stars given"
        rating_scale=RATING_SCALE if rating else None,
        recommendation=None,
        tags=["spoiler"] if spoiler else [],
        is_spoiler=spoiler,
        is_preliminary=False,
        progress=None,
        reactions=reactions,
        helpful_count=None,
        sub_scores=None,
        extra={
            "shelf": _shelf(shelving),
            "shelves": _shelves(shelving),
            "revised_at": _utc(raw.get("lastRevisionAt")),
        },
    )


def _shelf(shelving: dict[str, Any]) -> str | None:
    """The reviewer's exclusive shelf ("read", "currently-reading"...): their filing, not a tag."""
    shelf = shelving.get("shelf")
    name = shelf.get("name") if isinstance(shelf, dict) else None
    return name if isinstance(name, str) and name else None


def _shelves(shelving: dict[str, Any]) -> list[str]:
    """The reviewer's own shelves for the book, in their order."""
    out: list[str] = []
    taggings = shelving.get("taggings")
    for tagging in taggings if isinstance(taggings, list) else ():
        tag = tagging.get("tag") if isinstance(tagging, dict) else None
        name = tag.get("name") if isinstance(tag, dict) else None
        if isinstance(name, str) and name:
            out.append(name)
    return out


def _utc(value: Any) -> str | None:
    """Epoch milliseconds as UTC to the second (`2010-05-03T02:39:15Z`); None when no such time."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
        return None
    try:
        moment = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (not a bool, which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_count(value: Any) -> TypeGuard[int]:
    return _is_int(value) and value >= 0


# --- review text ----------------------------------------------------------------------------


def _fragment_parser() -> etree.HTMLParser:
    """One parser per page (lxml parsers must not be shared between threads): UTF-8 forced,
    deep trees allowed and their limit checked (`_check_depth`)."""
    return etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True)


def _check_depth(parser: etree.HTMLParser, url: str) -> None:
    """libxml2 stops building below its depth limit and carries on: such a tree is half-read."""
    if parser.error_log.filter_types(_DEPTH_ERRORS):
        raise PageError(
            "markup nested deeper than the HTML parser's limit: the page would be half-read", url
        )


def _html_text(fragment: str, parser: etree.HTMLParser, url: str) -> str:
    """A review's text HTML (a JSON string) to the contract's text."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment.replace("\xa0", " "))
    document = b"<html><body>" + fragment.encode("utf-8", errors="replace") + b"</body></html>"
    try:
        root = etree.fromstring(document, parser)
    except (etree.LxmlError, ValueError):
        root = None
    _check_depth(parser, url)
    body = root.find("body") if root is not None else None
    if body is None:
        raise PageError("a review's text HTML cannot be read", url)
    return _element_text(body)


def _element_text(
    element: etree._Element, skip: Callable[[etree._Element], bool] | None = None
) -> str:
    """The clean text of an element: `<br>` a line break, paragraph elements (p, blockquote,
    div, lists...) paragraphs of their own, images and buttons nothing (nor what `skip`
    rejects); no-break spaces are spaces. Reading drops those elements from the parser's own tree.

    Fast: marks set into the tree's own text let its text be read in one pass; should a text
    hold a mark already (the counts tell), the marks are taken out again and the element walked.
    """
    lines: list[etree._Element] = []
    paragraphs: list[etree._Element] = []
    dropped: list[etree._Element] = []
    for node in element.iter():
        tag = node.tag
        if node is element:
            continue
        if tag == "br":
            lines.append(node)
        elif tag in _PARAGRAPH_TAGS:
            paragraphs.append(node)
        elif not isinstance(tag, str) or tag in _SKIP_TAGS or (skip is not None and skip(node)):
            dropped.append(node)
    if any(len(node) for node in dropped):  # marks inside what is dropped would not be read
        for node in dropped:
            drop_element(node)
        return _element_text(element, skip)
    for node in dropped:
        drop_element(node)
    for node in lines:
        _prefix_tail(node, _LINE_MARK)
    for node in paragraphs:
        _prefix_text(node, _PARAGRAPH_MARK)
        _prefix_tail(node, _PARAGRAPH_MARK)
    # Source whitespace (and no-break spaces) become spaces here, in C: `clean_text` then has
    # none of its slow per-word work left.
    raw = "".join(cast(Iterator[str], element.itertext()))
    for space in _SPACES:
        if space in raw:
            raw = raw.replace(space, " ")
    if "  " in raw:
        raw = _SPACE_RUN.sub(" ", raw)
    if raw.count(_LINE_MARK) != len(lines) or raw.count(_PARAGRAPH_MARK) != 2 * len(paragraphs):
        for node in lines:
            node.tail = (node.tail or "")[1:] or None
        for node in paragraphs:
            node.text = (node.text or "")[1:] or None
            node.tail = (node.tail or "")[1:] or None
        return _walk_text(element)
    return clean_text(raw.replace(_LINE_MARK, BREAK).replace(_PARAGRAPH_MARK, _PARAGRAPH))


def _prefix_text(node: etree._Element, mark: str) -> None:
    try:
        node.text = mark + (node.text or "")
    except ValueError:  # lxml keeps control characters from broken pages but refuses to set them
        node.text = mark + _NOT_XML.sub("", node.text or "")


def _prefix_tail(node: etree._Element, mark: str) -> None:
    try:
        node.tail = mark + (node.tail or "")
    except ValueError:
        node.tail = mark + _NOT_XML.sub("", node.tail or "")


def _walk_text(element: etree._Element) -> str:
    """`_element_text` by walking the tree (its skipped elements already dropped), without
    recursion: a deep tree cannot overflow the stack."""
    parts: list[str] = [element.text or ""]
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        if node is element:
            continue
        tag = node.tag
        if event == "start":
            if not isinstance(tag, str):
                walker.skip_subtree()
            elif tag == "br":
                parts.append(BREAK)
            else:
                if tag in _PARAGRAPH_TAGS:
                    parts.append(_PARAGRAPH)
                if node.text:
                    parts.append(node.text)
        else:
            if tag in _PARAGRAPH_TAGS:
                parts.append(_PARAGRAPH)
            if node.tail:
                parts.append(node.tail)
    return clean_text("".join(parts).replace("\xa0", " "))


# --- the old fragment -------------------------------------------------------------------------


def _parse_old(body: bytes, url: str) -> ParsedPage:
    """An old reviews fragment (to 2020): `div.review#review_N` blocks, 30 a page."""
    # The fragment declares no charset and is UTF-8: lxml reads it so, and its error log tells
    # when it was not (then the bytes are decoded by their BOM, charset or cp1252, and re-read).
    data = body
    root = _old_tree(data, url)
    if root is None:
        data = decode_html(body, url).encode("utf-8")
        root = _old_tree(data, url, utf8_known=True)
    if root is None:
        raise PageError("not an HTML page (no elements in it): check the file", url)
    subject = _old_subject(data, url)
    blocks = [
        div
        for div in root.iter("div")
        if _OLD_ID.fullmatch(div.get("id") or "") and "review" in (div.get("class") or "").split()
    ]
    if not blocks:
        raise PageError(
            "old layout: no review blocks (div.review#review_N): the page is cut short or the "
            "layout changed",
            url,
        )
    _refuse_cut_fragment(data, len(blocks), url)
    block_set = set(blocks)
    for block in blocks:
        if any(ancestor in block_set for ancestor in block.iterancestors("div")):
            raise PageError(
                "old layout: review blocks are nested in one another (unclosed markup): which "
                "part belongs to which review is unclear; fetch the page again",
                url,
            )
    reviews = [_OldBlock(block, subject, url).review() for block in blocks]
    page = fragment_page_number(url)
    next_url = (
        fragment_page_url(url, page + 1)
        if len(blocks) >= FRAGMENT_PAGE_SIZE and page < FRAGMENT_MAX_PAGE
        else None
    )
    return ParsedPage(reviews=reviews, next_url=next_url, block_count=len(blocks), kind=OLD_KIND)


def _refuse_cut_fragment(data: bytes, whole: int, url: str) -> None:
    """A fragment has no `</html>` to tell it was cut: its block tags are counted instead (a
    block cut inside its start tag is no block at all), and against the "Showing A-B" it opens
    with (a cut between two blocks)."""
    tags = len(_OLD_BLOCK.findall(data))
    if tags > whole:
        raise PageError(
            f"old layout: {tags} review block tags but {whole} whole review blocks: the page is "
            "cut short or the layout changed; fetch it again",
            url,
        )
    showing = _SHOWING.search(data, 0, 4096)
    if showing is None:
        return
    first, last = (int(n.replace(b",", b"")) for n in showing.groups())
    if last - first + 1 != whole:
        raise PageError(
            f"old layout: the fragment shows {last - first + 1} reviews (Showing {first}-{last}) "
            f"but holds {whole}: it is cut short or the layout changed; fetch it again",
            url,
        )


def _old_tree(data: bytes, url: str, utf8_known: bool = False) -> etree._Element | None:
    """The fragment's tree from its first review block on (the filters and rating graph before
    it hold nothing a review needs), read as UTF-8; None when the bytes are not UTF-8 and that
    was not `utf8_known` (or when they hold no element)."""
    first = _OLD_BLOCK.search(data)
    parser = _fragment_parser()
    try:
        root = etree.fromstring(data[first.start() :] if first else data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise PageError(f"not an HTML page ({exc}): check the file", url) from None
    _check_depth(parser, url)
    if not utf8_known and parser.error_log.filter_types(_BAD_BYTES):
        return None
    return root


def _old_subject(data: bytes, url: str) -> Subject:
    """The book: id and title from the `ReviewCta` component's props, else the id in the URL."""
    found = _REVIEW_CTA.search(data)
    props: Any = None
    if found:
        try:
            props = json.loads(html.unescape(found.group(1).decode("utf-8", errors="replace")))
        except (ValueError, RecursionError):
            props = None
    book = props.get("bookId") if isinstance(props, dict) else None
    title = props.get("bookTitle") if isinstance(props, dict) else None
    if _is_int(book):
        book = str(book)
    if not (isinstance(book, str) and book.isascii() and book.isdigit() and int(book) > 0):
        in_url = _BOOK_PATH.search(url)
        if in_url is None:
            raise PageError(
                "old layout: no book id (no ReviewCta props, no /book/reviews/ID in the URL)", url
            )
        book, title = in_url.group(1), None
    book = str(int(book))
    return Subject(
        type=SUBJECT_TYPE,
        id=book,
        title=(" ".join(title.split()) or None) if isinstance(title, str) else None,
        url=book_url(book),
    )


def _sections(divs: Iterable[etree._Element]) -> dict[str, etree._Element]:
    """The header, text and footer divs of an old block's body, by class, the first of each."""
    sections: dict[str, etree._Element] = {}
    for div in divs:
        classes = (div.get("class") or "").split()
        for name in _OLD_SECTIONS:
            if name in classes:
                sections.setdefault(name, div)
    return sections


def _is_spoiler_button(element: etree._Element) -> bool:
    """The old layout's "(view spoiler)" / "(hide spoiler)" links: button labels, not text."""
    return element.tag == "a" and "spoilerAction" in (element.get("class") or "")


class _OldBlock:
    """One `div.review` block of the old fragment; every getter raises PageError when missing."""

    def __init__(self, element: etree._Element, subject: Subject, url: str) -> None:
        self.review_id = (element.get("id") or "")[len("review_") :]
        self.subject = subject
        self.url = url
        self.parts: dict[str, etree._Element] = {}
        self.free_text: etree._Element | None = None
        self.preview: etree._Element | None = None
        self.shelves: list[str] = []
        # Parts are found by walking each section in Python: one XPath `.//` call per block
        # costs ten times more. The text section is only searched for its text spans.
        sections = _sections(d for c in element.iterchildren("div") for d in c.iterchildren("div"))
        if len(sections) < len(_OLD_SECTIONS):  # not in div.bodycol: anywhere in the block
            sections = _sections(element.iter("div"))
        missing = [name for name in _OLD_SECTIONS if name not in sections]
        if missing:
            raise self.fail(f"div.{missing[0]}: the page is cut short or the layout changed")
        for node in sections["reviewHeader"].iter("a", "span"):
            classes = (node.get("class") or "").split()
            if node.tag == "a" and "reviewDate" in classes:
                self.parts.setdefault("date", node)
            elif node.tag == "a" and "user" in classes:
                parent = node.getparent()
                if parent is not None and parent.get("itemprop") == "author":
                    self.parts.setdefault("author", node)
            elif node.tag == "span" and "staticStars" in classes:
                self.parts.setdefault("stars", node)
            elif node.tag == "a" and "actionLinkLite" in classes:
                parent = node.getparent()
                name = " ".join(_text_of(node).split())
                if name and parent is not None and "bookshelves" in (parent.get("class") or ""):
                    self.shelves.append(name)  # "Shelves: a, b": the reviewer's filing
        text = sections["reviewText"]
        self._find_text(s for c in text.iterchildren("span") for s in c.iterchildren("span"))
        if self.free_text is None and self.preview is None:
            self._find_text(text.iter("span"))
        comments_id = f"comments_for_review_{self.review_id}"
        for node in sections["reviewFooter"].iter("span", "div"):
            if node.tag == "div":
                if node.get("id") == comments_id:
                    self.parts.setdefault("comments", node)
                continue
            classes = (node.get("class") or "").split()
            if "likesCount" in classes:
                self.parts.setdefault("likes", node)
            elif "likeItContainer" in classes:
                self.parts.setdefault("like_box", node)

    def _find_text(self, spans: Iterable[etree._Element]) -> None:
        """The whole text (span#freeTextN) and the preview (span#freeTextContainerN)."""
        for span in spans:
            ident = span.get("id") or ""
            if not ident.startswith("freeText"):
                continue
            if self.free_text is None and _FREE_TEXT.fullmatch(ident):
                self.free_text = span
            elif self.preview is None and ident.startswith("freeTextContainer"):
                self.preview = span

    def fail(self, what: str) -> PageError:
        """A PageError naming this review and what it lacks."""
        return PageError(
            f"old layout: review {self.review_id} has no {what}; nothing from the page was kept",
            self.url,
        )

    def review(self) -> Review:
        """The whole review, or PageError naming what this block lacks."""
        rating = self._rating()
        return Review(
            site=SITE,
            review_id=self.review_id,
            url=f"{CANONICAL}/review/show/{self.review_id}",
            subject=self.subject,
            author=self._author(),
            published_at=self._published_at(),
            text=self._text(),
            rating=rating,
            rating_scale=RATING_SCALE if rating is not None else None,
            recommendation=None,
            tags=[],
            is_spoiler=False,
            is_preliminary=False,
            progress=None,
            reactions={"likes": self._likes(), "comments": self._comments()},
            helpful_count=None,
            sub_scores=None,
            extra={"shelf": None, "shelves": self.shelves},
        )

    def _author(self) -> Author:
        link = self.parts.get("author")
        name = " ".join(_text_of(link).split()) if link is not None else ""
        if link is None or not name:
            raise self.fail("author (span[itemprop=author] a.user)")
        href = (link.get("href") or "").strip()
        if href.startswith("/"):
            href = CANONICAL + href
        return Author(name=name, url=href if href.startswith("http") else None)

    def _published_at(self) -> str:
        link = self.parts.get("date")
        words = " ".join(_text_of(link).split()) if link is not None else ""
        found = _OLD_DATE.fullmatch(words)
        month = _MONTHS.get(found.group(1).lower()) if found else None
        if found is None or month is None:
            raise self.fail("date (a.reviewDate 'Mar 24, 2013')")
        day, year = int(found.group(2)), int(found.group(3))
        try:
            return datetime(year, month, day).date().isoformat()
        except ValueError:
            raise self.fail(f"valid date ({words!r})") from None

    def _rating(self) -> int | None:
        """Full stars counted, checked against their label ("it was amazing" = 5); no stars
        (no "rated it") is no rating."""
        stars = self.parts.get("stars")
        if stars is None:
            return None
        classes = [(s.get("class") or "").split() for s in stars.iterchildren("span")]
        full = sum("p10" in c for c in classes)
        empty = sum("p0" in c for c in classes)
        label = " ".join((stars.get("title") or "").lower().split())
        if len(classes) != RATING_SCALE or full + empty != RATING_SCALE:
            raise self.fail(f"readable stars ({len(classes)} star spans, {full} full)")
        if _STAR_LABELS.get(label) != full:
            raise self.fail(f"stars that agree with their label ({full} full, label {label!r})")
        return full

    def _text(self) -> str:
        # The whole text is span#freeTextN; a short review has only the container (no "more").
        element = self.free_text if self.free_text is not None else self.preview
        if element is None:
            raise self.fail("text (span#freeTextN)")
        return _element_text(element, _is_spoiler_button)

    def _likes(self) -> int:
        likes = self.parts.get("likes")
        if likes is None:
            if "like_box" in self.parts:
                return 0
            raise self.fail("like box (span.likeItContainer)")
        return self._count(_text_of(likes), "likes count ('N likes')")

    def _comments(self) -> int:
        box = self.parts.get("comments")
        if box is None:
            raise self.fail(f"comments box (div#comments_for_review_{self.review_id})")
        words = " ".join(_text_of(box).split())
        return self._count(words, "comments count ('View all N comments')") if words else 0

    def _count(self, words: str, what: str) -> int:
        found = _COUNT.search(words)
        if found is None:
            raise self.fail(what)
        return int(found.group(1).replace(",", ""))


def _text_of(element: etree._Element) -> str:
    """All the text inside a (small) element."""
    if len(element) == 0:
        return element.text or ""
    return "".join(cast(list[str], element.itertext()))


__all__ = ["KIND", "OLD_KIND", "PARSER_VERSION", "REACTION_KEYS", "SITE", "parse"]
