"""Trustpilot company review pages: bytes and the page's URL in, reviews and the next page out.

A company's page (`https://www.trustpilot.com/review/NAME?page=N`, or a locale host such as
`fr.trustpilot.com`: the same reviews, the same ids) is a Next.js page: its reviews are in
`script#__NEXT_DATA__` → `props.pageProps.reviews` (20 a page, in page order), the company in
`pageProps.businessUnit`, the paging in `pageProps.filters.pagination`. The JSON-LD on the page
drops the bodies' line breaks, so it is never read; `pageProps.relevantReviews` (a carousel
repeating list reviews) is not extracted either.

Speed: no HTML tree is built. The script is found in the bytes and its JSON loaded as it is (a
`<script>` holds raw text, so its bytes are the JSON); the page must still end with `</html>`
after it, so a page cut short is refused like any other broken page.

Refused with one PageError naming the page: a challenge or block page (reason starting with
"blocked:"), a page without `__NEXT_DATA__`, a cut page, JSON that does not load, and any review
missing a field the record needs. Never a partial or guessed review.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeGuard

from reviewhoard.items import Author, Review, Subject
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.parsers.text import BOMS, decode_html, plain_text, require_html_bytes
from reviewhoard.sites.trustpilot.feeds import CANONICAL, SUBJECT_TYPE, company_url, reviews_url

SITE = "trustpilot"
PARSER_VERSION = "1"
RATING_SCALE = 5
KIND = "company_reviews"
REACTION_KEYS: tuple[str, ...] = ("useful",)
"""Trustpilot's one reader reaction: "Useful" (`likes`)."""

_NEXT_DATA_ID = b"__NEXT_DATA__"
_NEXT_DATA = re.compile(rb"""<script\b[^>]*?\bid\s*=\s*["']?__NEXT_DATA__["'\s>/]""", re.I)
_SCRIPT_END = re.compile(rb"</script", re.I)
_HTML_END = re.compile(rb"</html\s*>", re.I)
_TITLE = re.compile(rb"<title\b[^>]*>(.{0,400}?)</title", re.I | re.S)
_BLOCKED_TITLE = re.compile(
    rb"(?:\d{3}\W*)?(just a moment|attention required|access denied|you are being rate limited"
    rb"|too many requests)"
)
_TITLE_SPAN = 65536
"""Bytes from the start in which the `<title>` is looked for (a challenge page is small)."""
_BLOCKED = (
    (b"just a moment", "a Cloudflare challenge ('Just a moment...')"),
    (b"attention required", "a Cloudflare block page ('Attention Required')"),
    (b"rate limited", "a rate-limit page ('You are being rate limited')"),
    (b"too many requests", "a rate-limit page ('Too Many Requests')"),
    (b"access denied", "an 'Access denied' page"),
)
"""Words of a challenge/block page's title (or of a small page without `__NEXT_DATA__`)."""
_CHALLENGE_MARKS = (b"challenge-platform", b"cf-chl", b"cf_chl", b"captcha")
_REVIEW_ID = re.compile(r"[0-9A-Za-z]{1,64}")


def parse(body: bytes, url: str) -> ParsedPage:
    """The reviews of one company review page, in page order, and the feed's next page.

    Raises PageError (naming `url`) for a challenge/block page ("blocked: ..."), a page that is
    no Trustpilot review page, a page cut short, malformed `__NEXT_DATA__`, or a review that
    lacks a field the record needs.
    """
    require_html_bytes(body, url)
    if body.startswith(BOMS) and not body.startswith(codecs.BOM_UTF8):
        # UTF-16/32: the byte search below needs UTF-8.
        body = decode_html(body, url).encode("utf-8")
    _refuse_blocked(body, url)
    data = _next_data(body, url)
    props = _dig(data, ("props", "pageProps"), dict, url)
    reviews = props.get("reviews")
    if not isinstance(reviews, list):
        route = data.get("page") if isinstance(data.get("page"), str) else "unknown"
        raise PageError(
            f"__NEXT_DATA__ has no pageProps.reviews list (Next.js page {route!r}): not a "
            "company's review page, or the layout changed",
            url,
        )
    unit = _dig(props, ("businessUnit",), dict, url)
    name = unit.get("identifyingName")
    if not isinstance(name, str) or not name.strip():
        raise PageError("businessUnit has no identifyingName: cannot name the company", url)
    name = name.strip()
    title = unit.get("displayName")
    subject = Subject(
        type=SUBJECT_TYPE,
        id=name,
        title=(title.strip() or None) if isinstance(title, str) else None,
        url=company_url(name),
    )
    pagination = _dig(props, ("filters", "pagination"), dict, url)
    current, total = pagination.get("currentPage"), pagination.get("totalPages")
    if not _is_int(current) or not _is_int(total) or current < 1 or total < 0:
        raise PageError(
            f"filters.pagination has no usable currentPage/totalPages ({current!r}/{total!r})",
            url,
        )
    out = [_review(raw, subject, url) for raw in reviews]
    next_url = reviews_url(name, current + 1) if current < total else None
    return ParsedPage(reviews=out, next_url=next_url, block_count=len(reviews), kind=KIND)


def _refuse_blocked(body: bytes, url: str) -> None:
    """A challenge or rate-limit page, recognised by its title: PageError "blocked: ..."."""
    title = _TITLE.search(body, 0, _TITLE_SPAN)
    if title is None:
        return
    found = _BLOCKED_TITLE.match(b" ".join(title.group(1).lower().split()))
    if found is not None:
        _raise_blocked(found.group(1), url)


def _raise_blocked(words: bytes, url: str) -> None:
    """PageError "blocked: ..." naming what the page is, when `words` hold one of its marks."""
    for mark, what in _BLOCKED:
        if mark in words:
            raise PageError(
                f"blocked: Trustpilot answered with {what} instead of the review page; "
                "slow down and fetch it again later",
                url,
            )


def _next_data(body: bytes, url: str) -> dict[str, Any]:
    """The loaded `__NEXT_DATA__` JSON of a whole page; PageError for anything less."""
    start = _find_next_data(body)
    if start is None:
        _refuse_without_data(body, url)
    open_end = body.find(b">", start.end() - 1)
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
    return data


def _find_next_data(body: bytes) -> re.Match[bytes] | None:
    """The `<script id="__NEXT_DATA__" ...` start tag: the id is found by bytes (a regex scan of
    the whole page costs more than loading the JSON), then its tag is checked."""
    at = body.find(_NEXT_DATA_ID)
    while at >= 0:
        tag = _NEXT_DATA.match(body, body.rfind(b"<", 0, at))
        if tag is not None and tag.end() == at + len(_NEXT_DATA_ID) + 1:
            return tag
        at = body.find(_NEXT_DATA_ID, at + 1)
    return None


def _refuse_without_data(body: bytes, url: str) -> NoReturn:
    """Why a page has no `__NEXT_DATA__`: blocked, cut short, or no Trustpilot review page."""
    if len(body) < 200_000:
        lowered = body.lower()
        _raise_blocked(lowered, url)
        if any(mark in lowered for mark in _CHALLENGE_MARKS):
            raise PageError(
                "blocked: Trustpilot answered with a challenge page instead of the review page; "
                "slow down and fetch it again later",
                url,
            )
    if not _HTML_END.search(body, max(0, len(body) - 4096)):
        raise PageError("page is cut short (it ends before </html>): fetch it again", url)
    raise PageError(
        "no __NEXT_DATA__ script: not a Trustpilot review page, or the layout changed", url
    )


def _review(raw: Any, subject: Subject, url: str) -> Review:
    """One review of `pageProps.reviews`; PageError when a field the record needs is missing."""
    if not isinstance(raw, dict):
        raise PageError("a review in pageProps.reviews is not a JSON object", url)
    review_id = raw.get("id")
    if not isinstance(review_id, str) or not _REVIEW_ID.fullmatch(review_id):
        raise PageError(
            f"a review has no usable id ({review_id!r}); nothing from the page was kept", url
        )

    def bad(what: str) -> PageError:
        return PageError(f"review {review_id} has {what}; nothing from the page was kept", url)

    consumer = raw.get("consumer")
    author_name = consumer.get("displayName") if isinstance(consumer, dict) else None
    if not isinstance(author_name, str) or not author_name.strip():
        raise bad("no author (consumer.displayName)")
    consumer_id = consumer.get("id") if isinstance(consumer, dict) else None
    author_url = (
        f"{CANONICAL}/users/{consumer_id}"
        if isinstance(consumer_id, str) and _REVIEW_ID.fullmatch(consumer_id)
        else None
    )
    dates = raw.get("dates")
    if not isinstance(dates, dict):
        raise bad("no dates")
    published = _timestamp(dates.get("publishedDate"))
    if published is None:
        raise bad(f"no usable publishedDate ({dates.get('publishedDate')!r})")
    updated_raw = dates.get("updatedDate")
    updated = _timestamp(updated_raw)
    if updated is None and updated_raw is not None:
        raise bad(f"an unreadable updatedDate ({updated_raw!r})")
    rating = raw.get("rating")
    if not _is_int(rating) or not 1 <= rating <= RATING_SCALE:
        raise bad(f"no rating from 1 to {RATING_SCALE} ({rating!r})")
    likes = raw.get("likes")
    if not _is_int(likes) or likes < 0:
        raise bad(f"no usable likes count ({likes!r})")
    text = raw.get("text")
    if not isinstance(text, str):
        raise bad("no text")
    labels = raw.get("labels")
    verification = labels.get("verification") if isinstance(labels, dict) else None
    verified = isinstance(verification, dict) and verification.get("isVerified") is True
    headline = raw.get("title")
    language = raw.get("language")
    return Review(
        site=SITE,
        review_id=review_id,
        url=f"{CANONICAL}/reviews/{review_id}",
        subject=subject,
        author=Author(name=author_name.strip(), url=author_url),
        published_at=published,
        text=plain_text(text),
        rating=rating,
        rating_scale=RATING_SCALE,
        recommendation=None,
        tags=["verified"] if verified else [],
        is_spoiler=None,
        is_preliminary=False,
        progress=None,
        reactions={"useful": likes},
        helpful_count=likes,
        sub_scores=None,
        extra={
            "title": (plain_text(headline) or None) if isinstance(headline, str) else None,
            "reply": _reply(raw.get("reply"), bad),
            "language": language if isinstance(language, str) and language else None,
            "updated_at": updated,
        },
    )


def _reply(raw: Any, bad: Callable[[str], PageError]) -> dict[str, str] | None:
    """The company's reply as `{"text", "published_at"}`, or None when it has not replied."""
    if raw is None:
        return None
    message = raw.get("message") if isinstance(raw, dict) else None
    published = _timestamp(raw.get("publishedDate")) if isinstance(raw, dict) else None
    if not isinstance(message, str) or published is None:
        raise bad("a company reply without its message or publishedDate")
    return {"text": plain_text(message), "published_at": published}


def _timestamp(value: Any) -> str | None:
    """An ISO 8601 time as UTC to the second (`2024-06-27T08:03:48Z`); a time without a zone
    stays without one. None when the value is no such time."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) == 10:  # a date alone: no time is invented
        return moment.date().isoformat()
    if moment.tzinfo is None:
        return moment.isoformat(timespec="seconds")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (not a bool, which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _dig(data: dict[str, Any], path: tuple[str, ...], kind: type, url: str) -> Any:
    """`data[path[0]][path[1]]...` when it is a `kind`; PageError naming the path otherwise."""
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, kind):
        raise PageError(f"__NEXT_DATA__ has no {'.'.join(path)}: the layout changed", url)
    return node
