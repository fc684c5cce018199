"""A toy site that lives only in the tests: the proof that a site is one folder.

Nothing outside this folder names it. `$HOARD_SITE_PATH` pointing at `tests/toy_sites` makes
discovery find it (as `sites.toy`: its own modules are imported relatively), and then `hoard
crawl toy`, `hoard extract`, a `[[watch]]` of it, `hoard update` and the replay site all work
with it.
"""

from __future__ import annotations

from reviewhoard.sites.site import CrawlPolicy, FeedOption, Site

from . import parser
from .feeds import BASE, make_feeds

SITE = Site(
    key="toy",
    name="Toy Reviews",
    aliases=("toys",),
    base_url=BASE,
    domains=("toy.example",),
    parser=parser,
    subject_types=("thing",),
    options=(FeedOption("thing", "Thing ids whose reviews to walk (comma-separated)."),),
    make_feeds=make_feeds,
    policy=CrawlPolicy(min_delay=1.0),
    saved_pages={
        "thing-1-p1.html": f"{BASE}/things/1/reviews?page=1",
        "thing-1-p2.html": f"{BASE}/things/1/reviews?page=2",
    },
    watch_examples=("thing = [1]\n",),
)
