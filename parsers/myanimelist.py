"""MyAnimeList review pages: bytes and the page's URL in, reviews and the next page's URL out.

Reads every desktop page that carries review blocks:

- the current layout (2022 on): `div.review-element` blocks on a title's reviews tab (anime and
  manga), a title's main page, a single review (`reviews.php?id=N`), the site-wide listing
  (`reviews.php?t=anime`, each block naming its title in `div.titleblock a`) and a profile's
  reviews page;
- the old layout (2016 to 2022): `div.borderDark` blocks with the sub-score table, "N people found
  this review helpful", "N of M episodes seen" and the Preliminary marker, in both the 2016
  `div.borderLight` header and the later one.

It refuses, with one clear PageError, the mobile layout (text cut short, no scores), pages that
are no MyAnimeList page, and blocks it cannot read whole: it never guesses a review.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast
from urllib.parse import SplitResult, urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from items import Author, Progress, Review, Subject
from parsers.errors import PageError
from parsers.page import ParsedPage
from parsers.text import BLOCK_EDGE, BREAK, clean_text, decode_html, element_text, raw_text

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
_PROGRESS_OLD = re.compile(r"(\d+|Unknown|\?)\s+of\s+(\d+|\?|Unknown)\s+(episodes|chapters)\s+seen")
_HELPFUL = re.compile(r"(\d[\d,]*)\s+(?:people|person|user|users)\s+found this review helpful")
_OVERALL = re.compile(r"Overall Rating\s*:\s*(\d+(?:\.\d+)?)")
_NUMBER = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,3})?")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*([AaPp][Mm])\s*$")
_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%b %d, %Y %I:%M %p", "%m-%d-%y")
_SUB_SCORE_KEYS = frozenset(
    {"overall", "story", "animation", "sound", "character", "enjoyment", "art"}
)


def _elements(expr: str) -> Callable[[etree._Element], list[HtmlElement]]:
    """A compiled XPath that selects elements, typed for the callers."""
    compiled = etree.XPath(expr)

    def run(node: etree._Element) -> list[HtmlElement]:
        return cast(list[HtmlElement], compiled(node))

    return run


def _strings(expr: str) -> Callable[[etree._Element], list[str]]:
    """A compiled XPath that selects attribute values or text, as plain strings."""
    compiled = etree.XPath(expr)

    def run(node: etree._Element) -> list[str]:
        return [str(v) for v in cast(list[object], compiled(node))]

    return run


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_NEW_BLOCKS = _elements(
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' review-element ')]"
)
_OLD_BLOCKS = _elements(
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' borderDark ')]"
    "[.//div[contains(concat(' ', normalize-space(@class), ' '), ' textReadability ')]]"
)


_X_TEXT = _elements(f".//div[{_has_class('text')}]")
_X_UPDATE_AT = _elements(f".//div[{_has_class('update_at')}]")
_X_USERNAME = _elements(f".//div[{_has_class('username')}]//a")
_X_TAGS = _elements(f".//div[{_has_class('tags')}]/div[{_has_class('tag')}]")
_X_RATING = _elements(f".//div[{_has_class('rating')}]//span[{_has_class('num')}]")
# Review ids come from the block's own furniture, never from links an author put in the text.
_X_OPEN_LINK = _strings(f".//div[{_has_class('open')}]/a/@href")
_X_DATA_ID = _strings(
    f".//div[{_has_class('js-icon-reaction')} or {_has_class('js-btn-reaction')}]/@data-id"
)
_X_PERMALINK = _strings(
    ".//a[contains(@href, 'reviews.php?')]"
    f"[not(ancestor::div[{_has_class('textReadability')}])]/@href"
)
_X_TITLEBLOCK = _elements(f".//div[{_has_class('titleblock')}]//a[@href]")
_X_MORE_REVIEWS = _elements(
    "//a[@data-ga-click-type='review-more-reviews'][@href]"
    " | //a[normalize-space(.)='More Reviews'][@href]"
)
_X_OLD_TEXT = _elements(f".//div[{_has_class('textReadability')}]")
_X_PROFILE_LINKS = _elements(".//a[contains(@href, '/profile/')][normalize-space(.)]")
_X_SCORE_ROWS = _elements(".//div[starts-with(@id, 'score')]//tr")
_X_OG_TITLE = _strings("//meta[@property='og:title']/@content")
_X_MOBILE_BOX = _elements(f"//div[{_has_class('review-element')}]/a[{_has_class('review-box')}]")
_X_BLOCK_ANCESTOR = _elements(
    f"ancestor::div[{_has_class('review-element')}]"
    f" | ancestor::div[{_has_class('borderDark')}][.//div[{_has_class('textReadability')}]]"
)
_X_IN_TEXT = _elements(f"ancestor::div[{_has_class('textReadability')}]")


_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8")
"""The page is decoded by `decode_html` (BOM, UTF-8, declared charset, cp1252) and handed to
lxml as UTF-8, so a wrong `<meta charset>` cannot make lxml decode it a second way."""


def parse(body: bytes, url: str) -> ParsedPage:
    """Read one MyAnimeList page: its reviews in page order, the feed's next page, and its kind.

    Raises PageError (naming `url`) for the mobile layout, a page that is no MyAnimeList page, or
    a review block that cannot be read whole.
    """
    text = decode_html(body, url)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=_HTML_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"not an HTML page ({exc}): check the file", url) from None
    if _is_mobile(root):
        raise PageError(MOBILE_REASON, url)
    kind = _page_kind(url)
    new_blocks = _NEW_BLOCKS(root)
    old_blocks = [] if new_blocks else _OLD_BLOCKS(root)
    if not new_blocks and not old_blocks:
        return _empty_page(root, text, kind, url)
    if _is_cut_short(text):
        raise PageError(
            "page is cut short (no closing </html>): its last review may be partial; "
            "fetch it again",
            url,
        )
    blocks = new_blocks or old_blocks
    if any(_X_BLOCK_ANCESTOR(block) for block in blocks):
        raise PageError(
            "review blocks are nested in one another (unclosed markup): which part belongs to "
            "which review is unclear; fetch the page again",
            url,
        )
    page_subject = _page_subject(root, url)
    reviews: list[Review] = []
    for block in new_blocks:
        reviews.append(_NewBlock(block, url, page_subject).review())
    for block in old_blocks:
        reviews.append(_OldBlock(block, url, page_subject).review())
    next_url = _next_url(root, url) if kind in ("reviews_tab", "listing", "profile") else None
    return ParsedPage(
        reviews=reviews,
        next_url=next_url,
        block_count=len(new_blocks) + len(old_blocks),
        kind=kind,
    )


def _is_mobile(root: etree._Element) -> bool:
    body = root.find("body")
    if body is not None and "sp" in (body.get("class") or "").split():
        return True
    return bool(_X_MOBILE_BOX(root))


def _is_cut_short(text: str) -> bool:
    """A whole document (it opened `<html`) that never closes it was cut in transfer."""
    head = text[:2048].lower()
    return "<html" in head and "</html" not in text[-8192:].lower()


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


def _empty_page(root: etree._Element, text: str, kind: str, url: str) -> ParsedPage:
    """No review blocks: fine where the page says so; else a layout change or a wrong page."""
    if "myanimelist" not in text[:200_000].lower():
        raise PageError("not a MyAnimeList page (no review blocks, no MyAnimeList markup)", url)
    if "No reviews have been submitted" in text or kind == "title_main":
        return ParsedPage(reviews=[], next_url=None, block_count=0, kind=kind)
    if kind in ("reviews_tab", "listing", "profile", "review"):
        raise PageError(
            f"no review blocks on a {kind} page and no 'no reviews' notice: the layout may have "
            "changed; check the page and the parser",
            url,
        )
    raise PageError("not a MyAnimeList review page (no review blocks found)", url)


def _page_subject(root: etree._Element, url: str) -> Subject | None:
    """The title a title page is about: type and id from the URL, title from og:title."""
    match = _SUBJECT_PATH.search(_split(url).path + "/")
    if not match:
        return None
    kind, sid = match.groups()
    titles = _X_OG_TITLE(root)
    title = (titles[0].strip() or None) if titles else None
    return Subject(type=kind, id=sid, title=title, url=f"{BASE_URL}/{kind}/{sid}")


def _subject_from_link(block: etree._Element) -> Subject | None:
    for link in _X_TITLEBLOCK(block):
        match = _SUBJECT_PATH.search(_split(link.get("href") or "").path + "/")
        if match:
            kind, sid = match.groups()
            title = " ".join(link.text_content().split()) or None
            return Subject(type=kind, id=sid, title=title, url=f"{BASE_URL}/{kind}/{sid}")
    return None


def _next_url(root: etree._Element, url: str) -> str | None:
    for link in _X_MORE_REVIEWS(root):
        href = (link.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:")):
            return _absolute(url, href)
    return None


def _review_id_from(hrefs: Iterable[str]) -> str | None:
    for href in hrefs:
        match = _REVIEW_ID.search(href)
        if match:
            return match.group(1)
    return None


def _published_at(date_text: str, time_text: str | None) -> str | None:
    """'Aug 24, 2008' (+ '5:46 AM') -> '2008-08-24T05:46:00'; None when it is no date."""
    date_text = " ".join(date_text.split())
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(date_text, fmt)
        except ValueError:
            continue
        if fmt.endswith("%p"):
            return parsed.strftime("%Y-%m-%dT%H:%M:%S")
        match = _TIME.match(time_text or "")
        if not match:
            return parsed.strftime("%Y-%m-%d")
        hour, minute, half = int(match.group(1)) % 12, int(match.group(2)), match.group(3).lower()
        hour += 12 if half == "pm" else 0
        if minute > 59:
            return parsed.strftime("%Y-%m-%d")
        return parsed.replace(hour=hour, minute=minute).strftime("%Y-%m-%dT%H:%M:%S")
    return None


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
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None


class _Block:
    """One review block; subclasses read one layout. Every getter raises PageError when missing."""

    layout = ""

    def __init__(self, element: etree._Element, url: str, page_subject: Subject | None) -> None:
        self.el = element
        self.url = url
        self.page_subject = page_subject
        self.review_id = self._review_id()

    def _review_id(self) -> str:
        raise NotImplementedError

    def fail(self, what: str) -> PageError:
        """A PageError naming this block: which review (or which block) lacks what."""
        who = f"review {self.review_id}" if getattr(self, "review_id", None) else "a review block"
        reason = f"{self.layout} layout: {who} has no {what}; nothing from it was kept"
        return PageError(reason, self.url)

    def subject(self) -> Subject:
        subject = _subject_from_link(self.el) or self.page_subject
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
    """A `div.review-element` block of the 2022+ layout."""

    layout = "current"

    def _review_id(self) -> str:
        found = _review_id_from(_X_OPEN_LINK(self.el))
        if found is None:
            ids = [v.strip() for v in _X_DATA_ID(self.el) if v.strip().isdigit()]
            found = ids[0] if ids else None
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
        for link in _X_USERNAME(self.el):
            name = link.text_content().strip()
            if name:
                href = link.get("href")
                return Author(name=name, url=_absolute(BASE_URL, href) if href else None)
        raise self.fail("author (div.username a)")

    def _published_at(self) -> str:
        for div in _X_UPDATE_AT(self.el):
            published = _published_at(div.text_content(), div.get("title"))
            if published:
                return published
        raise self.fail("date (div.update_at)")

    def _tags(self) -> tuple[list[str], Progress | None]:
        tags: list[str] = []
        progress: Progress | None = None
        for tag in _X_TAGS(self.el):
            classes = (tag.get("class") or "").split()
            names = [c for c in classes if c not in ("tag", "btn-label", "js-btn-label")]
            if not names:
                continue
            slug = names[0].lower().replace("-", "_")
            tags.append(slug)
            if slug == "preliminary":
                progress = _new_progress(tag.text_content())
        return tags, progress

    def _text(self) -> str:
        containers = _X_TEXT(self.el)
        if not containers:
            raise self.fail("text (div.text)")
        text = element_text(containers[0], _skip_new)
        if not text:
            raise self.fail("text (div.text is empty)")
        return text

    def _rating(self) -> int | float:
        for num in _X_RATING(self.el):
            value = _number(num.text_content())
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


def _skip_new(el: etree._Element) -> bool:
    """The "..." between a review's visible part and its hidden rest is page furniture."""
    return "js-visible" in (el.get("class") or "").split()


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
    """A `div.borderDark` block of the 2016-2022 layout (header table, sub-scores, helpful)."""

    layout = "old"

    def __init__(self, element: etree._Element, url: str, page_subject: Subject | None) -> None:
        super().__init__(element, url, page_subject)
        containers = _X_OLD_TEXT(element)
        self.text_el: etree._Element = containers[0]
        # The header is everything in the block but the text: its words hold date, helpful...
        self.header_text = _header_text(element, self.text_el)

    def _review_id(self) -> str:
        # The permalink closes the block: without it the block may be cut short mid-text.
        found = _review_id_from(_X_PERMALINK(self.el))
        if found is None:
            raise PageError(
                "old layout: a review block has no permalink (reviews.php?id=N): the page is cut "
                "short or the layout changed; nothing from it was kept",
                self.url,
            )
        return found

    def _layout_fields(self) -> dict[str, Any]:
        is_preliminary = bool(re.search(r"\bPreliminary\b", self.header_text))
        return {
            "recommendation": None,
            "tags": ["preliminary"] if is_preliminary else [],
            "is_spoiler": None,
            "is_preliminary": is_preliminary,
            "progress": self._progress(),
            "reactions": None,
            "helpful_count": self._helpful(),
            "sub_scores": self._sub_scores(),
        }

    def _author(self) -> Author:
        for link in _X_PROFILE_LINKS(self.el):
            if _X_IN_TEXT(link):
                continue
            name = link.text_content().strip()
            href = link.get("href") or ""
            if name and not href.rstrip("/").endswith("/reviews"):
                return Author(name=name, url=_absolute(BASE_URL, href))
        raise self.fail("author (profile link)")

    def _published_at(self) -> str:
        for div in self.el.iter("div"):
            if div is self.text_el:
                break
            own = (div.text or "").strip()
            if own and len(div) == 0:
                published = _published_at(own, div.get("title"))
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
        scores: dict[str, int | float] = {}
        for row in _X_SCORE_ROWS(self.el):
            cells = [c.text_content().strip() for c in row.iter("td")]
            if len(cells) != 2:
                continue
            key, value = cells[0].lower(), _number(cells[1])
            if key in _SUB_SCORE_KEYS and value is not None:
                scores[key] = value
        return scores or None

    def _text(self) -> str:
        text = clean_text(raw_text(self.text_el, _skip_old))
        if not text:
            raise self.fail("text")
        return text


def _skip_old(el: etree._Element) -> bool:
    """Furniture inside the old text container: score table, helpful button, "read more"."""
    ident = el.get("id") or ""
    if ident.startswith(("score", "revhelp_output", "reviewToggle")):
        return True
    classes = el.get("class") or ""
    return "js-review-btn-helpful" in classes or "js-toggle-review-button" in classes


def _header_text(block: etree._Element, text_el: etree._Element) -> str:
    """Whitespace-normalised text of the block outside its text container, in page order."""
    raw = raw_text(block, lambda el: el is text_el)
    return " ".join(raw.replace(BREAK, " ").replace(BLOCK_EDGE, " ").split())
