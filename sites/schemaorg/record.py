"""One schema.org Review node (from JSON-LD or microdata) to the review record, per sites.md.

Both readers hand over nodes in the same shape: a dict of property name to value (a string, a
number, a nested node dict or a list of those), `@type` and `@id` included. Microdata text that
is already clean (read from the elements) comes as `CleanText`, so it is not cleaned twice.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urljoin

from reviewhoard.items import Author, Review, Subject
from reviewhoard.parsers.dates import MONTHS
from reviewhoard.parsers.text import clean_text, html_fragment_text, plain_text, unescape_again

SITE = "schemaorg"
DEFAULT_BEST_RATING = 5

REVIEW_TYPES = frozenset({"Review", "UserReview", "CriticReview"})
"""The schema.org types read as reviews (sites.md): not ClaimReview, not AggregateRating."""
SUBJECT_TYPES: dict[str, str] = {
    "Movie": "film",
    "Book": "book",
    "VideoGame": "game",
    "Organization": "company",
    "LocalBusiness": "company",
    "Store": "company",
    "Restaurant": "company",
    "Product": "product",
    "Recipe": "recipe",
    "Event": "event",
    "MusicGroup": "artist",
    "MusicAlbum": "music",
    "TVSeries": "tv",
    "SoftwareApplication": "software",
    "CreativeWork": "work",
}
"""schema.org type -> the record's subject type; any other type is lowercased."""
HOLDING_PROPERTIES = frozenset({"review", "reviews"})
"""The properties by which an item holds its reviews (the subject of a review without
itemReviewed)."""

Node = dict[str, Any]
Resolve = Callable[[Any], Any]


class CleanText(str):
    """Text already clean under the contract's rules (microdata read from its elements)."""

    __slots__ = ()


_PREFIXES = ("schema:", "http://schema.org/", "https://schema.org/")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufdd0]")
_TAG = re.compile(r"<(?:[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?|/[A-Za-z][A-Za-z0-9]*\s*)>")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"([A-Za-z]{3,9})\.?"
_WEEKDAY = r"(?:[A-Za-z]{3,9},?\s+)?"
_MONTH_FIRST = re.compile(_WEEKDAY + _MONTH + r"\s+" + _ORDINAL + r",?\s+(\d{4})")
_DAY_FIRST = re.compile(_WEEKDAY + _ORDINAL + r"\s+" + _MONTH + r",?\s+(\d{4})")
_MONTHS = MONTHS


def short_type(name: str) -> str:
    """`http://schema.org/Review` or `schema:Review` -> `Review`."""
    return name.rsplit("/", 1)[-1].rsplit(":", 1)[-1].strip()


def type_names(node: Node) -> list[str]:
    """The node's types without their vocabulary prefix, in order."""
    value = node.get("@type")
    if isinstance(value, str):
        return [short_type(value)]
    if isinstance(value, list):
        return [short_type(v) for v in value if isinstance(v, str)]
    return []


def is_review(node: Node) -> bool:
    """True when the node is a Review, UserReview or CriticReview."""
    value = node.get("@type")
    if isinstance(value, str):
        return short_type(value) in REVIEW_TYPES
    return isinstance(value, list) and any(
        isinstance(v, str) and short_type(v) in REVIEW_TYPES for v in value
    )


def prop(node: Node, name: str) -> Any:
    """A property's value, also when the page spells it with the vocabulary prefix."""
    value = node.get(name)
    if value is None:
        for prefix in _PREFIXES:
            value = node.get(prefix + name)
            if value is not None:
                break
    return value


def first(value: Any) -> Any:
    """The first value of a property (the first non-null of a list); `{"@value": v}` is v."""
    if isinstance(value, list):
        value = next((v for v in value if v is not None), None)
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    return value


def scalar_text(value: Any) -> str | None:
    """A property's first value as a string (numbers too), stripped; None when there is none."""
    value = first(value)
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() and _SURROGATE.search(value):
            value = _SURROGATE.sub("", value)  # a lone `\ud800` in JSON is no character
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def inline_text(value: Any) -> str | None:
    """A one-line text (a name, a title): entities decoded once, spaces folded; None if empty."""
    value = first(value)
    if isinstance(value, CleanText):
        return value or None
    text = scalar_text(value)
    if text is None:
        return None
    return clean_text(_CONTROLS.sub("", text), unescape_twice=True) or None


def body_text(value: Any) -> str | None:
    """A review body held in JSON: markup to text, `\\n` line breaks kept in plain text,
    entities decoded once; None when empty."""
    value = first(value)
    if isinstance(value, CleanText):
        return value or None
    text = scalar_text(value)
    if text is None:
        return None
    text = _CONTROLS.sub("", text)
    if _TAG.search(text):
        return html_fragment_text(text) or None
    return plain_text(unescape_again(text)) or None


def absolute(value: Any, base: str) -> str | None:
    """An `@id` or URL resolved against the page URL (blank nodes `_:x` and absolute IRIs as
    they are); None when there is none."""
    text = scalar_text(value)
    if text is None:
        return None
    if text.startswith("_:") or _SCHEME.match(text):
        return text
    return _join(base, text)


@functools.lru_cache(maxsize=4096)
def _join(base: str, reference: str) -> str | None:
    """urljoin, remembered (a page names the same few ids and URLs many times); None for a
    reference no URL can be made of (`//[x`)."""
    try:
        return urljoin(base, reference)
    except ValueError:
        return None


def web_url(value: Any, base: str) -> str | None:
    """An http(s) URL resolved against the page URL, else None."""
    url = absolute(value, base)
    return url if url is not None and url.startswith(("http://", "https://")) else None


def number(value: Any) -> int | float | None:
    """A rating value as a number: `4` -> 4, `"4.5"` and `"4,5"` -> 4.5; None otherwise."""
    value = first(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        return None
    if "," in text or "." in text:
        return float(text.replace(",", "."))
    return int(text)


def published_at(value: str | None) -> str | None:
    """ISO 8601 as given (a space before the time becomes `T`); "March 3, 2020" style as the
    date; anything else None."""
    if value is None:
        return None
    text = " ".join(value.split())
    iso = _ISO.fullmatch(text)
    if iso:
        year, month, day, hour, minute, second = iso.group(1, 2, 3, 4, 5, 6)
        if not _valid_date(int(year), int(month), int(day)):
            return None
        if hour is not None and (int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59):
            return None
        return text.replace(" ", "T", 1)
    for pattern, (m, d, y) in ((_MONTH_FIRST, (1, 2, 3)), (_DAY_FIRST, (2, 1, 3))):
        match = pattern.fullmatch(text)
        if match:
            month_number = _MONTHS.get(match.group(m).lower())
            day_number, year_number = int(match.group(d)), int(match.group(y))
            if month_number and _valid_date(year_number, month_number, day_number):
                return f"{year_number:04d}-{month_number:02d}-{day_number:02d}"
    return None


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def content_id(author: str | None, date: str | None, text: str | None) -> str:
    """The id of a review with neither `@id` nor `url`: `sha1:` + 16 hex digits over author
    name, datePublished as given and the text without whitespace (a missing part is "")."""
    squeezed = "".join((text or "").split())
    digest = hashlib.sha1(f"{author or ''}\n{date or ''}\n{squeezed}".encode())
    return "sha1:" + digest.hexdigest()[:16]


def subject_type(node: Node) -> str | None:
    """The record's type for a subject node: sites.md's mapping, else its type lowercased."""
    names = type_names(node)
    for name in names:
        if name in SUBJECT_TYPES:
            return SUBJECT_TYPES[name]
    return names[0].lower() if names and names[0] else None


def subject_of(target: Any, page_url: str, resolve: Resolve) -> Subject:
    """The reviewed item: a node, or text only (type null, the text as id and title). A review
    about nothing the page names is about the page itself."""
    target = resolve(first(target))
    if isinstance(target, dict):
        base_id = (
            absolute(target.get("@id"), page_url)
            or web_url(prop(target, "url"), page_url)
            or scalar_text(prop(target, "sameAs"))
            or inline_text(prop(target, "name"))
        )
        return Subject(
            type=cast(str, subject_type(target)),
            id=base_id or page_url,
            title=inline_text(prop(target, "name")),
            url=web_url(prop(target, "url"), page_url),
        )
    text = inline_text(target)
    if text is not None:
        # sites.md: an itemReviewed that is only text has no type (null in the record).
        return Subject(type=cast(str, None), id=text, title=text, url=None)
    return Subject(type=cast(str, None), id=page_url, title=None, url=page_url)


def author_of(value: Any, page_url: str, resolve: Resolve) -> Author:
    """`author.name` and `author.url`; a plain string is the name; the first of a list."""
    author = resolve(first(value))
    if isinstance(author, dict):
        name = inline_text(prop(author, "name"))
        if name is None:
            parts = (inline_text(prop(author, k)) for k in ("givenName", "familyName"))
            name = " ".join(p for p in parts if p) or None
        url = web_url(prop(author, "url"), page_url)
    else:
        name, url = inline_text(author), None
    # sites.md: a review without an author name keeps it null (the id rule allows for it).
    return Author(name=cast(str, name), url=url)


def rating_of(value: Any, resolve: Resolve) -> tuple[int | float | None, int | float | None]:
    """(`reviewRating.ratingValue`, `bestRating` defaulting to 5), or (None, None)."""
    rating = resolve(first(value))
    if isinstance(rating, dict):
        score = number(prop(rating, "ratingValue"))
        best = number(prop(rating, "bestRating"))
    else:
        score, best = number(rating), None
    if score is None:
        return None, None
    return score, best if best is not None else DEFAULT_BEST_RATING


def language_of(value: Any, resolve: Resolve) -> str | None:
    """`inLanguage`: a code or name, or a Language node's alternateName (else name)."""
    language = resolve(first(value))
    if isinstance(language, dict):
        return inline_text(prop(language, "alternateName")) or inline_text(prop(language, "name"))
    return inline_text(language)


def review_record(node: Node, holder: Node | None, page_url: str, resolve: Resolve) -> Review:
    """The review record of one Review node; `holder` is the item whose `review`/`reviews`
    held it (its subject when it names no itemReviewed)."""
    author = author_of(prop(node, "author"), page_url, resolve)
    date_given = scalar_text(prop(node, "datePublished"))
    text = body_text(prop(node, "reviewBody")) or body_text(prop(node, "description"))
    node_id = absolute(node.get("@id"), page_url)
    own_url = web_url(prop(node, "url"), page_url)
    review_id = node_id or own_url or content_id(author.name, date_given, text)
    if own_url is not None:
        url = own_url
    elif node_id is not None and node_id.startswith(("http://", "https://")) and "#" not in node_id:
        url = node_id
    else:
        url = page_url
    target = prop(node, "itemReviewed")
    if first(target) is None:
        target = holder
    rating, scale = rating_of(prop(node, "reviewRating"), resolve)
    title = inline_text(prop(node, "headline")) or inline_text(prop(node, "name"))
    return Review(
        site=SITE,
        review_id=review_id,
        url=url,
        subject=subject_of(target, page_url, resolve),
        author=author,
        # sites.md: a datePublished that is no date is null in the record.
        published_at=cast(str, published_at(date_given)),
        text=cast(str, text),
        rating=rating,
        rating_scale=scale,
        recommendation=None,
        tags=[],
        is_spoiler=None,
        is_preliminary=False,
        progress=None,
        reactions=None,
        helpful_count=None,
        sub_scores=None,
        extra={"title": title, "language": language_of(prop(node, "inLanguage"), resolve)},
    )


def same_review_key(review: Review, node: Node) -> str:
    """What makes two reviews the same besides their id: author, date as given, text."""
    return content_id(review.author.name, scalar_text(prop(node, "datePublished")), review.text)
