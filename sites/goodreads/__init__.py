"""Goodreads (`goodreads`, alias `gr`): a book's reviews.

    hoard crawl goodreads --book 14476341,4671-the-great-gatsby

The server renders a book's first 30 reviews and no link to more, so each run reads those 30
(`walkable=False`: nothing unseen may be marked gone). Pages are read from their `__NEXT_DATA__`
(`parser.py`, which also reads the old 2020 reviews fragments); feeds are `feeds.py`.
"""

from __future__ import annotations

from reviewhoard.sites.goodreads import parser
from reviewhoard.sites.goodreads.feeds import CANONICAL, SUBJECT_TYPE, make_feeds
from reviewhoard.sites.site import CrawlPolicy, FeedOption, Site

SAVED_PAGES = {
    "book-14476341-reviews-2025-04.html": (
        "https://www.goodreads.com/book/show/14476341-the-great-gatsby/reviews"
    ),
    "book-15797938-reviews-fragment-2020-old.html": (
        "https://www.goodreads.com/book/reviews/15797938-the-dinner"
        "?edition_reviews=true&rating=5&text_only=true"
    ),
}
"""Where each saved page came from (the fixture README's table)."""

SITE = Site(
    key="goodreads",
    name="Goodreads",
    aliases=("gr",),
    base_url=CANONICAL,
    domains=("goodreads.com",),
    parser=parser,
    subject_types=(SUBJECT_TYPE,),
    options=(
        FeedOption(
            "book",
            "Book ids whose reviews pages to read, as in goodreads.com/book/show/ID-slug "
            "(comma-separated; the first 30 reviews of each).",
        ),
    ),
    make_feeds=make_feeds,
    policy=CrawlPolicy(min_delay=2.0),
    saved_pages=SAVED_PAGES,
    bench_max_ratio=1.5,
    bench_baseline="lxml+next_data",
    watch_examples=("book = [14476341]\n",),
    crawl_notes=(
        "Goodreads' server renders a book's first 30 reviews and no link to more: its \"more\" "
        "button calls Goodreads' private API, which reviewhoard does not use. So each run "
        "archives those 30 per book, and no Goodreads review is ever marked gone."
    ),
    crawl_examples=("--book 14476341", "--book 14476341,4671"),
)
