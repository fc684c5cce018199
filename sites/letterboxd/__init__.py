"""Letterboxd (`letterboxd`, alias `lb`): a film's reviews.

    hoard crawl letterboxd --film oppenheimer-2023,past-lives --sort popular --rated 5

Letterboxd's terms of use forbid automated collection (since December 2025): `hoard crawl` and
`hoard update` refuse unless the user says they have permission. Pages are read by `parser.py`
(the list, and each cut review's whole text as a follow-up); feeds and paging are `feeds.py`.
"""

from __future__ import annotations

from reviewhoard.items import Subject
from reviewhoard.sites.letterboxd import parser
from reviewhoard.sites.letterboxd.feeds import (
    CANONICAL,
    RATINGS,
    SORTS,
    SUBJECT_TYPE,
    follow_ups,
    full_text_url,
    make_feeds,
    next_page,
)
from reviewhoard.sites.site import CrawlPolicy, Feed, FeedOption, Site

SAVED_PAGES = {
    "film-oppenheimer-2023-reviews-2026-07.html": (
        "https://letterboxd.com/film/oppenheimer-2023/reviews/"
    ),
    "film-oppenheimer-2023-reviews-rated5-p1-2026-07.html": (
        "https://letterboxd.com/film/oppenheimer-2023/reviews/rated/5/by/activity/"
    ),
    "film-oppenheimer-2023-reviews-rated5-p9999-empty-2026-07.html": (
        "https://letterboxd.com/film/oppenheimer-2023/reviews/rated/5/by/activity/page/9999/"
    ),
    "full-text-viewing-1401220676.html": full_text_url("1401220676"),
    "full-text-viewing-1401220529.html": full_text_url("1401220529"),
}
"""Where each saved page came from (the fixture README's table). The full-text fragments are
follow-ups, not list pages: the list parser must refuse them."""


def saved_page_url(name: str) -> str | None:
    """`full-text-viewing-N.html` came from the full-text address of review N."""
    stem = name.rsplit(".", 1)[0]
    number = stem.removeprefix("full-text-viewing-")
    return full_text_url(number) if number != stem and number.isdigit() else None


def feed_shows(feed: Feed, subject: Subject) -> bool:
    """A film's feed knows it by slug, its reviews by numeric id: the subject's own address
    names the slug."""
    return subject.type == SUBJECT_TYPE and (subject.url or "").rstrip("/").endswith(
        f"/film/{feed.subject_id}"
    )


SITE = Site(
    key="letterboxd",
    name="Letterboxd",
    aliases=("lb",),
    base_url=CANONICAL,
    domains=parser.DOMAINS,
    parser=parser,
    subject_types=(SUBJECT_TYPE,),
    options=(
        FeedOption(
            "film",
            "Films whose reviews to walk, by slug as in letterboxd.com/film/SLUG/ "
            "(comma-separated).",
            "SLUGS",
        ),
        FeedOption(
            "sort",
            "Order of the film's reviews: newest first (default) or popular (review activity).",
            "ORDER",
            choices=tuple(SORTS),
        ),
        FeedOption(
            "rated",
            "Only the reviews given this many stars (0.5 to 5), or none for unrated ones.",
            "STARS",
            choices=RATINGS,
        ),
    ),
    make_feeds=make_feeds,
    next_page=next_page,
    follow_ups=follow_ups,
    read_follow_up=parser.parse_full_text,
    policy=CrawlPolicy(
        min_delay=2.0,
        terms_forbid_crawling=(
            "Letterboxd's terms of use forbid automated collection (since December 2025) and "
            "it answers crawlers with Cloudflare challenges"
        ),
    ),
    saved_pages=SAVED_PAGES,
    saved_page_url=saved_page_url,
    bench_baseline="lxml",
    watch_examples=(
        'film = ["oppenheimer-2023"]\nterms_ok = true           # with Letterboxd\'s permission\n',
    ),
    crawl_notes=(
        "Long reviews are cut on Letterboxd's lists: the crawl fetches each cut review's whole "
        "text from its own page (/s/full-text/viewing:ID/), only for reviews not archived whole "
        "yet, and the archive completes the cut text in place (one version, not an edit)."
    ),
    crawl_examples=(
        "--film oppenheimer-2023 --terms-ok",
        "--film oppenheimer-2023 --sort popular --rated 5 --terms-ok",
    ),
    feed_shows=feed_shows,
)
