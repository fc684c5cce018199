"""Letterboxd review lists: bytes and the page's URL in, reviews and the next page's URL out.

Reads a film's review list (`https://letterboxd.com/film/SLUG/reviews/`, any sort or rating
filter, any page): `article.production-viewing` blocks in `div.viewing-list`, 12 a page, the
film named in the page header (its numeric id, never the slug, which changes with retitles).
A long review is cut on the list (`div.collapsed-text`): it is yielded with its visible text
(without the site's trailing "…") and `extra["text_truncated"]` True; its whole text comes from
the follow-up page `https://letterboxd.com/s/full-text/viewing:ID/`, a bare fragment of `<p>`
elements read by `parse_full_text` into a `TextCompletion`.

Refused with one PageError naming the page, never a partial or guessed review: a Cloudflare
challenge or block page (reason starting with "blocked:"), a full-text fragment given as a list
page, a page cut short, a page without the review list or without the film's id, nesting deeper
than the parser follows, and any review block missing a part the record needs (id, author,
date, text, like count) or whose two viewing ids disagree.

Speed: page facts (challenge, cut, where the list is) are found in the bytes; only the span from
the page header (the film) to the sidebar after the list is built into a plain `lxml.etree`
tree, and each block's parts are found in one tag-filtered walk of the block.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import cast

from lxml import etree

from reviewhoard.items import Author, Review, Subject
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage, TextCompletion
from reviewhoard.parsers.text import (
    BOMS,
    BREAK,
    SKIP_TAGS,
    clean_text,
    decode_html,
    require_html_bytes,
)
from reviewhoard.sites.letterboxd.feeds import CANONICAL, SUBJECT_TYPE

SITE = "letterboxd"
DOMAINS: tuple[str, ...] = ("letterboxd.com",)
PARSER_VERSION = "1"
RATING_SCALE = 5
KIND = "film_reviews"
REACTION_KEYS: tuple[str, ...] = ("likes", "comments")
"""Letterboxd's reader reactions on a review: its likes and its comments."""

FRAGMENT_REASON = (
    "a full-text fragment is not a review page (it has no author, rating or date): "
    "read it as a follow-up (parse_full_text) for the review it completes"
)
CUT_REASON = (
    "page is cut short (it ends before </html>): its last review may be partial; fetch it again"
)

_FULL_TEXT_PATH = re.compile(r"^https?://[^/]*/s/full-text/viewing:([0-9]{1,20})/?(?:[?#].*)?$")
_NEXT_PATH = re.compile(
    r"^(?:https?://(?:www\.)?letterboxd\.com)?"
    r"(/film/[a-z0-9-]+/reviews/(?:[a-z]+/[^/?#\s]+/){0,4}page/[0-9]{1,6}/)$"
)
"""A next-page link: the same list (any sort and filters, `rated/3-4.5/`...) at `page/N/`."""
_CONTEXT_PATH = re.compile(r"^/([^/\s]+)/film/[^/\s]+/(?:[0-9]+/)?$")
_AVATAR_PATH = re.compile(r"^/([^/\s]+)/$")
_FILM_PATH = re.compile(r"^/film/([a-z0-9-]+)/")
_FILM_UID = re.compile(r"^film:([0-9]{1,20})$")
_VIEWING_UID = re.compile(r"^viewing:([0-9]{1,20})$")
_FULL_TEXT_HREF = re.compile(r"^/s/full-text/viewing:([0-9]{1,20})/$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:$|[T ])")
_COUNT = re.compile(r"^[0-9]{1,3}(?:,?[0-9]{3})*$")
_HTML_END = re.compile(rb"</html\s*>", re.I)
_TITLE = re.compile(rb"<title\b[^>]*>(.{0,400}?)</title", re.I | re.S)
_LIST_TAG = re.compile(rb"""<div\s[^>]*?class\s*=\s*["'](?:[^"'>]*\s)?viewing-list[\s"']""")
_FRAGMENT_START = re.compile(rb"^\s*<(?:p|blockquote|ul|ol|h[1-6])[\s>]", re.I)
_FRAGMENT_END = re.compile(rb"</(?:p|blockquote|ul|ol|li|h[1-6]|div)\s*>\s*$", re.I)
_WHOLE_PAGE = re.compile(rb"<(?:html|head|body|!doctype)[\s>]", re.I)
_BAD_BYTES = frozenset({etree.ErrorTypes.ERR_INVALID_ENCODING, etree.ErrorTypes.ERR_INVALID_CHAR})
_TOO_DEEP = etree.ErrorTypes.ERR_RESOURCE_LIMIT

_BLOCKED_TITLE = re.compile(
    rb"(?:\d{3}\W*)?(just a moment|attention required|access denied|too many requests"
    rb"|you are being rate limited)"
)
"""How a challenge or block page's `<title>` starts (a Letterboxd page's starts with the page's
own words, "Reviews of ...", so a film called "Access Denied" is no block page)."""
_BLOCKED_WHAT = {
    b"just a moment": "a Cloudflare challenge ('Just a moment...')",
    b"attention required": "a Cloudflare block page ('Attention Required')",
    b"access denied": "an 'Access denied' page",
    b"too many requests": "a rate-limit page ('Too Many Requests')",
    b"you are being rate limited": "a rate-limit page ('You are being rate limited')",
}
_CHALLENGE_MARKS = (
    b"_cf_chl_opt",
    b"cf-chl",
    b"cf_chl",
    b"cf-challenge",
    b"challenge-form",
    b"cf-browser-verification",
    b"challenge-platform/h/",
    b"cf-error-details",
)
"""Markup only Cloudflare's challenge and block pages carry (every Letterboxd page loads
`challenge-platform/scripts/jsd/`, so that path alone means nothing)."""

PARAGRAPH_TAGS = frozenset(
    {"p", "div", "blockquote", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
    | {"table", "tr"}
)
"""Elements that are a paragraph of their own in review text (a blank line around them)."""
_PARAGRAPH = BREAK + BREAK


def _elements(expr: str) -> Callable[[etree._Element], list[etree._Element]]:
    """A compiled XPath that selects elements, typed for the callers."""
    compiled = etree.XPath(expr)

    def run(node: etree._Element) -> list[etree._Element]:
        return cast(list[etree._Element], compiled(node))

    return run


# The list and the pagination after it, in one pass over the tree.
_X_LIST_PARTS = _elements(
    "//div[contains(@class, 'viewing-list') or contains(@class, 'pagination')]"
)
_X_BLOCKS = _elements(".//article[contains(@class, 'production-viewing')]")
# The film is named in the page header; anywhere outside the list when the header is not found.
_X_HEADER_FILM_NODES = _elements("//header//*[@data-production-uid or @data-postered-identifier]")
_X_FILM_NODES = _elements("//*[@data-production-uid or @data-postered-identifier]")
_X_MASTHEAD_LINKS = _elements("//h1[contains(@class, 'primaryname')]//a[@href]")
_X_COLLAPSED = _elements(".//div[contains(@class, 'collapsed-text')]")
_PART_TAGS = ("a", "strong", "time", "svg", "p", "div")
"""The tags of a block's parts (found by a tag-filtered walk: faster than any XPath here)."""


def _classes(element: etree._Element) -> list[str]:
    return (element.get("class") or "").split()


def _text_of(element: etree._Element) -> str:
    """All the text inside a (small) element, whitespace-normalised."""
    return " ".join("".join(cast(Iterator[str], element.itertext())).split())


def parse(body: bytes, url: str) -> ParsedPage:
    """Read one page of a film's review list: its reviews in page order, the next page, its kind.

    Raises PageError (naming `url`) for a challenge or block page ("blocked: ..."), a full-text
    fragment, a page cut short, a page that is no film's review list or lacks the film's id, and
    a review block that cannot be read whole.
    """
    require_html_bytes(body, url)
    data = decode_html(body, url).encode("utf-8") if body.startswith(BOMS) else body
    if _FULL_TEXT_PATH.match(url) or _is_fragment(data):
        raise PageError(FRAGMENT_REASON, url)
    found = _LIST_TAG.search(data)
    if found is None:
        _refuse_blocked(data, url)
        if _WHOLE_PAGE.search(data, 0, 4096) and _is_cut_short(data):
            raise PageError(CUT_REASON, url)  # a page that opened and was cut before its list
        raise PageError(
            "no review list (div.viewing-list): not a Letterboxd film's review page, or the "
            "layout changed; check the page and the parser",
            url,
        )
    if _is_cut_short(data):
        raise PageError(CUT_REASON, url)
    list_at = found.start()
    root = _tree(data, _span(data, list_at), url, None if data is not body else body)
    return _read_page(root, url)


def _is_fragment(data: bytes) -> bool:
    """A full-text fragment: block elements with no page around them."""
    return bool(_FRAGMENT_START.match(data)) and not _WHOLE_PAGE.search(data, 0, 4096)


def _is_cut_short(data: bytes) -> bool:
    """A whole document that never closes its `<html>` was cut in transfer."""
    return not _HTML_END.search(data, max(0, len(data) - 8192))


def _refuse_blocked(data: bytes, url: str) -> None:
    """A challenge or block page (asked only of a page without the review list), by how its
    `<title>` starts or by Cloudflare's challenge markup: PageError "blocked: ..."."""
    title = _TITLE.search(data, 0, 65536)
    words = b" ".join(title.group(1).lower().split()) if title else b""
    found = _BLOCKED_TITLE.match(words)
    if found is not None:
        _raise_blocked(_BLOCKED_WHAT[found.group(1)], url)
    if len(data) < 500_000:
        lowered = data.lower()
        if any(mark in lowered for mark in _CHALLENGE_MARKS):
            _raise_blocked("a Cloudflare challenge page", url)


def _raise_blocked(what: str, url: str) -> None:
    raise PageError(
        f"blocked: Letterboxd answered with {what} instead of the page; it refuses automated "
        "collection: stop, and do not retry without permission",
        url,
    )


def _span(data: bytes, list_at: int) -> tuple[int, int]:
    """The bytes to build a tree from: the page header (where the film is named) to the sidebar
    after the list (the pagination is before it); the whole page when either is not found."""
    marker = data.rfind(b"production-page-header", 0, list_at)
    start = data.rfind(b"<header", 0, marker) if marker >= 0 else -1
    end = data.find(b"<aside", list_at)
    return max(start, 0), end if end >= 0 else len(data)


def _tree(data: bytes, span: tuple[int, int], url: str, unverified: bytes | None) -> etree._Element:
    """The span of the page as a tree. UTF-8 is assumed (as Letterboxd sends it); when lxml finds
    it was not (`unverified` is the body as received), the body is decoded by its charset or
    cp1252 and read again."""
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    start, end = span
    try:
        root = etree.fromstring(data[start:end], parser)
    except (etree.LxmlError, ValueError) as exc:
        raise PageError(f"not an HTML page ({exc}): check the file", url) from None
    errors = {entry.type for entry in parser.error_log}
    if unverified is not None and errors & _BAD_BYTES:
        text = decode_html(unverified, url).encode("utf-8")
        found = _LIST_TAG.search(text)
        if found is not None:
            return _tree(text, _span(text, found.start()), url, None)
    if _TOO_DEEP in errors:
        raise PageError(
            "markup nested deeper than the HTML parser follows: the page would be half read; "
            "check the page",
            url,
        )
    if root is None:
        raise PageError("not an HTML page (no elements in it): check the file", url)
    return root


def _read_page(root: etree._Element, url: str) -> ParsedPage:
    lists: list[etree._Element] = []
    paginations: list[etree._Element] = []
    for div in _X_LIST_PARTS(root):
        classes = _classes(div)
        if "viewing-list" in classes:
            lists.append(div)
        elif "pagination" in classes:
            paginations.append(div)
    if len(lists) != 1:
        raise PageError(
            f"{len(lists)} review lists (div.viewing-list) where one was expected: the layout "
            "changed or the page is broken; check the page and the parser",
            url,
        )
    blocks = [b for b in _X_BLOCKS(lists[0]) if "production-viewing" in _classes(b)]
    block_set = set(blocks)
    for block in blocks:
        if any(ancestor in block_set for ancestor in block.iterancestors("article")):
            raise PageError(
                "review blocks are nested in one another (unclosed markup): which part belongs "
                "to which review is unclear; fetch the page again",
                url,
            )
    subject = _subject(root, lists[0], url)
    reviews = [_Block(block, url, subject).review() for block in blocks]
    next_url = _next_url(paginations, url) if blocks else None
    return ParsedPage(
        reviews=reviews,
        next_url=next_url,
        block_count=len(blocks),
        kind=KIND,
        past_end=not blocks,  # a page past the end still looks like a page, with no reviews
    )


def _subject(root: etree._Element, review_list: etree._Element, url: str) -> Subject:
    """The film the list belongs to: its numeric id from the header's poster and backdrop (all
    must agree), its title and slug from the masthead."""
    ids: set[str] = set()
    slugs: list[str] = []
    nodes = _X_HEADER_FILM_NODES(root) or [
        node
        for node in _X_FILM_NODES(root)
        if not any(ancestor is review_list for ancestor in node.iterancestors("div"))
    ]
    for node in nodes:
        uid = node.get("data-production-uid")
        if uid is not None:
            ids.add(_film_id(uid, url))
        identifier = node.get("data-postered-identifier")
        if identifier is not None:
            ids.add(_film_id(_json_uid(identifier, url), url))
            slug = node.get("data-item-slug") or ""
            if _FILM_PATH.match(f"/film/{slug}/"):
                slugs.append(slug)
    if not ids:
        raise PageError(
            "the page does not name its film's id (no data-production-uid or poster "
            "data-postered-identifier before the list): the layout changed; check the parser",
            url,
        )
    if len(ids) > 1:
        raise PageError(f"the page names several film ids ({', '.join(sorted(ids))})", url)
    title: str | None = None
    for link in _X_MASTHEAD_LINKS(root):
        found = _FILM_PATH.match(link.get("href") or "")
        if found is not None:
            title = _text_of(link) or None
            slugs.insert(0, found.group(1))
            break
    if not slugs:
        page_slug = _FILM_PATH.search(url.partition("letterboxd.com")[2])
        slugs = [page_slug.group(1)] if page_slug else []
    return Subject(
        type=SUBJECT_TYPE,
        id=ids.pop(),
        title=title,
        url=f"{CANONICAL}/film/{slugs[0]}/" if slugs else None,
    )


def _film_id(uid: str, url: str) -> str:
    found = _FILM_UID.match(uid.strip())
    if found is None:
        raise PageError(f"the page's film id {uid[:40]!r} is not film:N", url)
    return found.group(1)


def _json_uid(raw: str, url: str) -> str:
    """The `uid` of an identifier attribute's JSON (`{"lid": ..., "uid": "film:N", ...}`)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        value = None
    uid = value.get("uid") if isinstance(value, dict) else None
    if not isinstance(uid, str):
        raise PageError(f"an identifier attribute is not the known JSON ({raw[:60]!r})", url)
    return uid


def _next_url(paginations: list[etree._Element], url: str) -> str | None:
    """The canonical URL of the next page, from `a.next` in `div.pagination`."""
    for pagination in paginations:
        for link in pagination.iter("a"):
            if "next" not in _classes(link):
                continue
            href = (link.get("href") or "").strip()
            found = _NEXT_PATH.match(href)
            if found is None:
                # Reading a next link wrongly would end the walk early and mark reviews gone.
                raise PageError(f"the next-page link {href[:80]!r} is not a review list page", url)
            return CANONICAL + found.group(1)
    return None


def _count(text: str) -> int | None:
    """'28' -> 28, '1,234' -> 1234; None for anything else."""
    text = text.strip()
    return int(text.replace(",", "")) if _COUNT.match(text) else None


def _rating(label: str) -> int | float | None:
    """'★★★½' -> 3.5, '★★★★★' -> 5; None when the label is no star rating."""
    label = "".join(label.split())
    stars = len(label) - len(label.lstrip("★"))
    rest = label[stars:]
    if rest not in ("", "½") or stars > 5 or (stars == 5 and rest) or not (stars or rest):
        return None
    return stars + 0.5 if rest else stars


class _Block:
    """One `article.production-viewing` block, its parts found in one walk (none from inside
    the review text, where an author's own markup is)."""

    def __init__(self, element: etree._Element, url: str, subject: Subject) -> None:
        self.url = url
        self.subject = subject
        self.review_id: str | None = None
        self.parts: dict[str, etree._Element] = {}
        self.liked = self.spoiler = False
        parts = [p for p in element.iter(*_PART_TAGS) if p.get("class")]
        bodies = [p for p in parts if p.tag == "div" and "js-review-body" in _classes(p)]
        if len(bodies) > 1:
            # Only the outermost body counts: an author's markup inside it is text, not a part.
            inside = {e for body in bodies for e in body.iterdescendants()}
            bodies = [body for body in bodies if body not in inside]
            parts = [p for p in parts if p not in inside]
        if len(bodies) > 1:
            raise self.fail("single review body (it has two div.js-review-body)")
        elif bodies:
            inside = set(bodies[0].iterdescendants(*_PART_TAGS))
            parts = [p for p in parts if p not in inside]
        for part in parts:
            tag, classes = part.tag, _classes(part)
            if tag == "a":
                if "avatar" in classes:
                    self.parts.setdefault("avatar", part)
                elif "context" in classes:
                    self.parts.setdefault("context", part)
                elif "metadata" in classes and (part.get("href") or "").endswith("#comments"):
                    self.parts.setdefault("comments", part)
            elif tag == "strong" and "displayname" in classes:
                self.parts.setdefault("displayname", part)
            elif tag == "time" and "timestamp" in classes:
                self.parts.setdefault("time", part)
            elif tag == "svg":
                if "-rating" in classes:
                    self.parts.setdefault("rating", part)
                elif "inline-liked" in classes or part.get("aria-label") == "Liked":
                    self.liked = True
            elif tag == "p":
                if "like-link-target" in classes:
                    self.parts.setdefault("like", part)
                elif "js-spoiler-container" in classes or "contains-spoilers" in classes:
                    self.spoiler = True
            elif tag == "div" and "js-review-body" in classes:
                self.parts["body"] = part
        self.review_id = self._review_id()

    def fail(self, what: str) -> PageError:
        """A PageError naming this block: which review (or which block) lacks what."""
        who = f"review {self.review_id}" if self.review_id else "a review block"
        return PageError(f"{who} has no {what}; nothing from the page was kept", self.url)

    def _review_id(self) -> str:
        """The viewing id, from the like button's identifier and the body's full-text URL,
        which must agree."""
        body, like = self.parts.get("body"), self.parts.get("like")
        from_body = (
            _FULL_TEXT_HREF.match(body.get("data-full-text-url") or "")
            if body is not None
            else None
        )
        from_like: re.Match[str] | None = None
        if like is not None:
            raw = like.get("data-likeable-identifier") or ""
            from_like = _VIEWING_UID.match(_json_uid(raw, self.url)) if raw else None
        if from_body is None or from_like is None:
            missing = "data-full-text-url on its body" if from_body is None else "like button uid"
            raise self.fail(f"viewing id ({missing}): the page is cut or the layout changed")
        if from_body.group(1) != from_like.group(1):
            raise PageError(
                f"a review block names two viewing ids ({from_like.group(1)} in its like button, "
                f"{from_body.group(1)} in its full-text URL): the layout changed; check the parser",
                self.url,
            )
        return from_body.group(1)

    def review(self) -> Review:
        """The whole review, or PageError naming what this block lacks."""
        context = self.parts.get("context")
        href = (context.get("href") or "").strip() if context is not None else ""
        path = _CONTEXT_PATH.match(href)
        if context is None or path is None:
            raise self.fail("permalink (a.context to /USER/film/SLUG/)")
        username = path.group(1)
        avatar = self.parts.get("avatar")
        if avatar is not None:
            avatar_path = _AVATAR_PATH.match((avatar.get("href") or "").strip())
            if avatar_path is None or avatar_path.group(1) != username:
                raise self.fail(f"avatar link matching its permalink's user {username!r}")
        display = self.parts.get("displayname")
        text, truncated, language = self._text()
        tags = ["liked"] if self.liked else []
        if (context.text or "").strip().lower().startswith("rewatched"):
            tags.append("rewatch")
        return Review(
            site=SITE,
            review_id=cast(str, self.review_id),
            url=CANONICAL + href,
            subject=self.subject,
            author=Author(name=username, url=f"{CANONICAL}/{username}/"),
            published_at=self._published_at(),
            text=text,
            rating=self._rating(),
            rating_scale=RATING_SCALE,
            recommendation=None,
            tags=tags,
            is_spoiler=self.spoiler,
            is_preliminary=False,
            progress=None,
            reactions=self._reactions(),
            helpful_count=None,
            sub_scores=None,
            extra={
                "display_name": (_text_of(display) or None) if display is not None else None,
                "text_truncated": truncated,
                "language": language,
            },
        )

    def _published_at(self) -> str:
        time = self.parts.get("time")
        found = _DATE.match((time.get("datetime") or "").strip()) if time is not None else None
        if found is None:
            raise self.fail("date (time.timestamp with a datetime)")
        return f"{found.group(1)}-{found.group(2)}-{found.group(3)}"

    def _rating(self) -> int | float | None:
        glyph = self.parts.get("rating")
        if glyph is None:
            return None
        rating = _rating(glyph.get("aria-label") or "")
        if rating is None:
            raise self.fail(f"readable star rating (aria-label {glyph.get('aria-label')!r})")
        return rating

    def _reactions(self) -> dict[str, int]:
        like = self.parts["like"]
        likes = _count(like.get("data-count") or "")
        if likes is None:
            raise self.fail("like count (data-count on its like button)")
        comments = 0
        link = self.parts.get("comments")
        if link is not None:
            found = _count(_text_of(link))
            if found is None:
                raise self.fail(f"readable comment count ({_text_of(link)[:20]!r})")
            comments = found
        return {"likes": likes, "comments": comments}

    def _text(self) -> tuple[str, bool, str | None]:
        """The review text, whether the list cut it, and the body's language."""
        body = self.parts["body"]
        collapsed = _X_COLLAPSED(body)
        container = collapsed[0] if collapsed else body
        text = paragraph_text(container)
        if collapsed and text.endswith("…"):
            text = text[:-1].rstrip()
        if not text:
            raise self.fail("text (div.js-review-body is empty)")
        return text, bool(collapsed), (body.get("lang") or "").strip() or None


def paragraph_text(element: etree._Element) -> str:
    """An element's clean text, each paragraph element (`p`, `blockquote`, `div`, list item,
    heading) its own paragraph, `<br>` a line break and a no-break space a space, as Letterboxd
    lays out review text."""
    parts: list[str] = []
    _collect(element, parts)
    # No-break spaces (pasted text, a double space typed in the editor) are plain spaces here.
    return clean_text("".join(parts).replace("\xa0", " "))


def _collect(element: etree._Element, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # comments and processing instructions: only their tail
            pass
        elif tag == "br":
            parts.append(BREAK)
        elif tag in PARAGRAPH_TAGS:
            parts.append(_PARAGRAPH)
            _collect(child, parts)
            parts.append(_PARAGRAPH)
        elif tag not in SKIP_TAGS:
            _collect(child, parts)
        if child.tail:
            parts.append(child.tail)


def parse_full_text(body: bytes, url: str) -> list[TextCompletion]:
    """Read a review's whole text (`/s/full-text/viewing:ID/`, bare `<p>` elements) into one
    `TextCompletion` for review ID.

    Raises PageError (naming `url`) for a URL that is no full-text address, a challenge or block
    page, anything that is not a fragment (a whole page), a fragment cut short, and an empty one.
    """
    found = _FULL_TEXT_PATH.match(url)
    if found is None:
        raise PageError("not a full-text address (/s/full-text/viewing:ID/)", url)
    require_html_bytes(body, url)
    data = decode_html(body, url).encode("utf-8")
    _refuse_blocked(data, url)
    if _WHOLE_PAGE.search(data) or _LIST_TAG.search(data) or not _FRAGMENT_START.match(data):
        raise PageError(
            "not a full-text fragment (bare <p> elements): a whole page or something else; "
            "check what the address answered",
            url,
        )
    if not _FRAGMENT_END.search(data):
        raise PageError(
            "full-text fragment is cut short (it does not end with a closing tag): fetch it again",
            url,
        )
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise PageError(f"not an HTML fragment ({exc}): check the file", url) from None
    if root is None or any(entry.type == _TOO_DEEP for entry in parser.error_log):
        raise PageError("full-text fragment could not be read whole (nesting too deep)", url)
    container = root.find("body")
    text = paragraph_text(container if container is not None else root)
    if not text:
        raise PageError("full-text fragment holds no text", url)
    return [TextCompletion(site=SITE, review_id=found.group(1), text=text)]


__all__ = [
    "DOMAINS",
    "FRAGMENT_REASON",
    "PARSER_VERSION",
    "REACTION_KEYS",
    "SITE",
    "paragraph_text",
    "parse",
    "parse_full_text",
]
