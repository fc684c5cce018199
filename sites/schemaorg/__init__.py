"""schema.org reviews on any site (`schemaorg`): the Review nodes a page publishes as JSON-LD
(or, without those, microdata).

    hoard extract PAGE --url URL --site schemaorg
    hoard crawl schemaorg --url https://shop.example/p/1,https://blog.example/review

No domains: a URL never picks this site by its host; only `--site schemaorg` (or a crawl of
this site) does.
"""

from __future__ import annotations

from reviewhoard.sites.schemaorg import parser
from reviewhoard.sites.schemaorg.feeds import make_feeds
from reviewhoard.sites.schemaorg.record import SUBJECT_TYPES
from reviewhoard.sites.site import CrawlPolicy, FeedOption, Site

SITE = Site(
    key="schemaorg",
    name="schema.org reviews",
    aliases=("schema.org", "jsonld"),
    base_url="",
    domains=(),
    parser=parser,
    subject_types=tuple(dict.fromkeys(SUBJECT_TYPES.values())),
    options=(
        FeedOption(
            "url",
            "Pages whose schema.org reviews to read (absolute http(s) URLs, comma-separated).",
            "URLS",
        ),
    ),
    make_feeds=make_feeds,
    policy=CrawlPolicy(min_delay=2.0),
    saved_pages={},
    bench_baseline="lxml",
    watch_examples=('url = ["https://example.org/product/1"]\n',),
    crawl_notes=(
        "Reads the schema.org reviews (JSON-LD, else microdata) on the given pages only; each "
        "site's robots.txt is obeyed and each is asked one page at a time with its own delay. A "
        "page without them is not an error."
    ),
    crawl_examples=("--url https://example.org/product/1",),
)
