"""Letterboxd's feeds: where a crawl starts, how it pages, and which extra pages make a page's
reviews whole. Parsing is `parser.py`.

A film's review list (`film` slugs, as in `letterboxd.com/film/SLUG/`), newest first or by
review activity (`sort=popular`), optionally only the reviews of one rating (`rated=4.5`, or
`none` for unrated ones): `https://letterboxd.com/film/SLUG/reviews/[rated/R/][by/activity/]`,
12 reviews a page, `page/N/` after the first. A long review is cut on the list; its whole text
is a follow-up page, `https://letterboxd.com/s/full-text/viewing:ID/`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from reviewhoard.parsers.page import ParsedPage
from reviewhoard.sites.site import Feed

CANONICAL = "https://letterboxd.com"
SUBJECT_TYPE = "film"
SORTS: dict[str, str] = {"newest": "", "popular": "by/activity/"}
"""The `sort` option's values and the path part each adds (newest first is the list's default)."""
RATINGS: tuple[str, ...] = (
    *(f"{half / 2:g}" for half in range(1, 11)),
    "none",
)
"""The `rated` option's values: "0.5" to "5" in half stars, or "none" (reviews without stars)."""

FILM_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?")
"""A film's slug as in `letterboxd.com/film/SLUG/`: lowercase letters, digits and hyphens."""
_PAGE = re.compile(r"/page/([0-9]{1,6})/$")


def film_reviews_url(
    slug: str, rated: str | None = None, sort: str = "newest", page: int = 1
) -> str:
    """Page `page` of a film's review list, with the optional rating filter and sort."""
    rating_part = f"rated/{rated}/" if rated else ""
    page_part = f"page/{page}/" if page > 1 else ""
    return f"{CANONICAL}/film/{slug}/reviews/{rating_part}{SORTS[sort]}{page_part}"


def full_text_url(review_id: str) -> str:
    """Where a review's whole text is served: bare `<p>` elements, no page around them."""
    return f"{CANONICAL}/s/full-text/viewing:{review_id}/"


def _one_value(args: Mapping[str, Sequence[str]], name: str, allowed: Sequence[str]) -> str | None:
    """The single value of a filter option, or None when it is not given; ValueError for a value
    not in `allowed`, or for several (each film gets one feed)."""
    values = [v.strip() for v in args.get(name, ()) if v.strip()]
    if not values:
        return None
    if len(values) > 1:
        raise ValueError(f"{name} takes one value, not {len(values)} ({', '.join(values)})")
    if values[0] not in allowed:
        raise ValueError(f"{name} is one of {', '.join(allowed)}, not {values[0]!r}")
    return values[0]


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """One feed per `film` slug, filtered by `rated` and sorted by `sort`; ValueError names a
    bad value.

    Only the unfiltered newest-first list shows every review of the film, so only that one is
    walkable (a review it no longer shows is gone).
    """
    sort = _one_value(args, "sort", tuple(SORTS)) or "newest"
    rated = _one_value(args, "rated", RATINGS)
    suffix = (f"/rated/{rated}" if rated else "") + ("/by/activity" if sort == "popular" else "")
    feeds: list[Feed] = []
    for value in args.get("film", ()):
        slug = value.strip()
        if not FILM_SLUG.fullmatch(slug):
            raise ValueError(
                "film slugs are lowercase letters, digits and hyphens as in "
                f"letterboxd.com/film/SLUG/ (oppenheimer-2023), not {value!r}"
            )
        feeds.append(
            Feed(
                key=f"film:{slug}{suffix}",
                start_url=film_reviews_url(slug, rated, sort),
                subject_type=SUBJECT_TYPE,
                subject_id=slug,
                walkable=rated is None and sort == "newest",
            )
        )
    return feeds


def next_page(feed: Feed, parsed: ParsedPage, page: int) -> str | None:
    """The feed's next page: its own start URL plus the `page/N/` the page's "next" link names
    (the feed's filters, whatever the link carries); None on the last page."""
    if parsed.next_url is None:
        return None
    number = _PAGE.search(parsed.next_url)
    if number is None or not feed.start_url.startswith(f"{CANONICAL}/film/"):
        return parsed.next_url
    return f"{feed.start_url}page/{int(number.group(1))}/"


def follow_ups(parsed: ParsedPage) -> list[str]:
    """The whole-text pages of the page's cut reviews (`text_truncated`), in page order."""
    return [
        full_text_url(review.review_id)
        for review in parsed.reviews
        if review.extra.get("text_truncated") is True
    ]
