"""The supervisor's Scrapy extension inside a real Crawler: field coverage from stored items,
each feed's first URL, and staying out of runs it does not supervise."""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.utils.test import get_crawler

from reviewhoard.hoard.alarms import Coverage
from reviewhoard.hoard.crawl import supervise
from reviewhoard.items import Author, Review, Subject


def review(review_id: str, rating: float | None = 8, text: str = "Good.") -> Review:
    return Review(
        site="myanimelist",
        review_id=review_id,
        url=f"https://myanimelist.net/reviews.php?id={review_id}",
        subject=Subject("anime", "1"),
        author=Author("someone"),
        published_at="2022-10-01",
        text=text,
        rating=rating,
    )


def test_watcher_counts_coverage_and_first_feed_urls() -> None:
    state = supervise.RunState(feeds=["anime:1"])
    supervise._RUNS["test-run"] = state
    try:
        crawler = get_crawler(
            settings_dict={
                supervise.RUN_ID_SETTING: "test-run",
                "EXTENSIONS": {"reviewhoard.hoard.crawl.supervise.RunWatcher": 0},
            }
        )
        for item in (review("1"), review("2", rating=None), review("3", text=" "), "a page"):
            crawler.signals.send_catch_log(
                signals.item_scraped, item=item, response=None, spider=None
            )
        for page in (1, 2):
            request = Request(f"https://myanimelist.net/anime/1/_/reviews?p={page}")
            request.meta["feed"] = "anime:1"
            crawler.signals.send_catch_log(signals.request_scheduled, request=request, spider=None)
    finally:
        supervise._RUNS.pop("test-run")
    assert state.coverage == {
        "rating": Coverage(2, 3, "https://myanimelist.net/reviews.php?id=2"),
        "text": Coverage(2, 3, "https://myanimelist.net/reviews.php?id=3"),
        "author": Coverage(3, 3, None),
        "published_at": Coverage(3, 3, None),
    }
    assert state.url_of_feed == {"anime:1": "https://myanimelist.net/anime/1/_/reviews?p=1"}
    assert len(state.stats) == 1 and state.stats[0] is crawler.stats


def test_watcher_stays_out_of_unsupervised_runs() -> None:
    crawler = get_crawler(
        settings_dict={"EXTENSIONS": {"reviewhoard.hoard.crawl.supervise.RunWatcher": 0}}
    )
    assert crawler.extensions is not None
    assert not any(isinstance(m, supervise.RunWatcher) for m in crawler.extensions.middlewares)


def test_progress_text() -> None:
    stats = {
        "hoard/feed/anime:1/pages": 3,
        "hoard/feed/anime:1/reviews": 60,
        "hoard/feed/manga:2/pages": 1,
        "hoard/feed/manga:2/reviews": 20,
        "hoard/feed/manga:2/request_errors": 1,
        "hoard/reviews_new": 12,
        "hoard/reviews_updated": 2,
    }
    assert supervise.progress_text(stats, 34.26) == (
        "4 pages, 80 reviews (12 new, 2 updated), 1 errors, 34.3 s"
    )
    assert (
        supervise.progress_text({}, 3725)
        == "0 pages, 0 reviews (0 new, 0 updated), 0 errors, 1:02:05"
    )
