"""Goodreads' feeds: where a crawl starts and how it pages. Parsing is `parser.py`.

A book's reviews page (`book` ids, as in `goodreads.com/book/show/ID-slug`). The server renders
its first 30 reviews and no link to more ("Show more reviews" calls Goodreads' private GraphQL
API, which we do not use), so a feed is one page a run, and it never shows every review of the
book: nothing unseen may be marked gone (`walkable=False`).

Old reviews fragments (`/book/reviews/ID?...&page=N`, to 2020) paged `&page=N`, 30 a page, at
most 10 pages ("Top 300"): `fragment_page_url` gives the next one; the parser asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit

from reviewhoard.sites.site import Feed

CANONICAL = "https://www.goodreads.com"
SUBJECT_TYPE = "book"
FRAGMENT_PAGE_SIZE = 30
FRAGMENT_MAX_PAGE = 10
"""The old fragments showed the "Top 300": 10 pages of 30."""

_BOOK = re.compile(r"([0-9]{1,12})(?:[-.].*)?", re.S)


def book_reviews_url(book_id: int | str) -> str:
    """A book's reviews page on the canonical host (Goodreads ignores the slug after the id)."""
    return f"{CANONICAL}/book/show/{book_id}/reviews"


def book_url(book_id: int | str) -> str:
    """A book's own page on the canonical host."""
    return f"{CANONICAL}/book/show/{book_id}"


def book_id(value: str) -> str:
    """`14476341`, `14476341-the-great-gatsby` or `4671.The_Great_Gatsby` -> the numeric id
    (`"14476341"`); ValueError for anything else."""
    match = _BOOK.fullmatch(value.strip())
    number = int(match.group(1)) if match else 0
    if number <= 0:
        raise ValueError(
            "book ids are numbers as in goodreads.com/book/show/ID-slug "
            f"(14476341, 14476341-the-great-gatsby or 4671.The_Great_Gatsby), not {value!r}"
        )
    return str(number)


def fragment_page_url(url: str, page: int) -> str | None:
    """An old reviews fragment's page `page`, on the canonical host with the same query (the
    `page` parameter replaced or added); None when `url` is no address."""
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return None
    if not parts.path.startswith("/"):
        return None
    kept = [(k, v) for k, v in query if k != "page"]
    at = next((i for i, (k, _) in enumerate(query) if k == "page"), len(kept))
    kept.insert(min(at, len(kept)), ("page", str(page)))
    return f"{CANONICAL}{parts.path}?{urlencode(kept)}"


def fragment_page_number(url: str) -> int:
    """The `page` of an old fragment's URL (1 when it has none or it is no number)."""
    try:
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:
        return 1
    value = next((v for k, v in query if k == "page"), "1")
    return max(1, int(value)) if value.isascii() and value.isdigit() and len(value) < 6 else 1


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """The feeds asked for by `book`; ValueError names a bad value."""
    feeds: list[Feed] = []
    for value in args.get("book", ()):
        number = book_id(value)
        feeds.append(
            Feed(
                key=f"book:{number}",
                start_url=book_reviews_url(number),
                subject_type=SUBJECT_TYPE,
                subject_id=number,
                walkable=False,
            )
        )
    return feeds
