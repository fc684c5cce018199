"""Trustpilot (`trustpilot`): a company's reviews.

    hoard crawl trustpilot --company eventnet.de,calo.app/en

Pages are read from their `__NEXT_DATA__` (`parser.py`); feeds and paging are `feeds.py`.
"""

from __future__ import annotations

from reviewhoard.sites.site import CrawlPolicy, FeedOption, Site
from reviewhoard.sites.trustpilot import parser
from reviewhoard.sites.trustpilot.feeds import CANONICAL, SUBJECT_TYPE, make_feeds

SAVED_PAGES = {
    "review-eventnet.de-2024-07.html": "https://www.trustpilot.com/review/eventnet.de",
}
"""Where each saved page came from (the fixture README's table)."""

SITE = Site(
    key="trustpilot",
    name="Trustpilot",
    base_url=CANONICAL,
    domains=("trustpilot.com",),
    parser=parser,
    subject_types=(SUBJECT_TYPE,),
    options=(
        FeedOption(
            "company",
            "Companies whose reviews to walk, as in trustpilot.com/review/NAME (comma-separated).",
            "NAMES",
        ),
    ),
    make_feeds=make_feeds,
    policy=CrawlPolicy(min_delay=2.0),
    saved_pages=SAVED_PAGES,
    bench_max_ratio=1.5,
    bench_baseline="lxml+next_data",
    watch_examples=('company = ["eventnet.de"]\n',),
    crawl_notes=(
        "Pages are asked for with languages=all and sort=recency (the default order moves while "
        "you page); locale hosts (de., fr. ...) give the same reviews. The company's reply is "
        "kept with the review, and a reply that appears or changes later is kept in its history."
    ),
    crawl_examples=("--company eventnet.de",),
)
