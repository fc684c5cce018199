"""Each data-quality check over real-shaped Scrapy stats: fires with watch, URL and figure when it
should, and stays quiet on a healthy run."""

from __future__ import annotations

from typing import Any

from reviewhoard.hoard.alarms import (
    Alarm,
    Coverage,
    FeedCounts,
    RunFacts,
    failures,
    feed_counts,
    run_checks,
)

URL = "https://myanimelist.net/anime/1/_/reviews"
WATCH = "watch #1 (myanimelist anime:1, line 3)"


def healthy_stats(**extra: Any) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "finish_reason": "finished",
        "downloader/request_count": 41,
        "robotstxt/request_count": 1,
        "downloader/response_status_count/200": 41,
        "hoard/feed/anime:1/pages": 40,
        "hoard/feed/anime:1/reviews": 800,
        "hoard/feed/anime:1/blocks": 800,
        "hoard/feed/anime:1/page_errors": 0,
    }
    stats.update(extra)
    return stats


def facts(stats: dict[str, Any], **kw: Any) -> RunFacts:
    defaults: dict[str, Any] = {
        "watch_of_feed": {"anime:1": WATCH},
        "url_of_feed": {"anime:1": URL},
        "previous": {"anime:1": FeedCounts(pages=40, reviews=790, blocks=790)},
        "coverage": {f: Coverage(800, 800) for f in ("rating", "text", "author", "published_at")},
    }
    defaults.update(kw)
    return RunFacts(stats=stats, **defaults)


def test_healthy_run_has_no_alarm() -> None:
    assert run_checks(facts(healthy_stats())) == []


def test_feed_counts_read_the_spiders_stats_and_list_unreached_feeds() -> None:
    counts = feed_counts(
        healthy_stats(**{"hoard/feed/recent:anime/pages": 2}), {"anime:1": 1, "manga:9": 1}
    )
    assert counts == {
        "anime:1": FeedCounts(pages=40, reviews=800, blocks=800, page_errors=0, request_errors=0),
        "manga:9": FeedCounts(),
        "recent:anime": FeedCounts(pages=2),
    }


def test_layout_change_fires_empty_feed_blocks_vanished_and_finish_reason() -> None:
    stats = healthy_stats(
        **{
            "finish_reason": "layout_changed",
            "hoard/stop_url": URL + "?p=1",
            "hoard/stop_detail": "anime:1 page 1 (...): no review blocks",
            "hoard/feed/anime:1/pages": 1,
            "hoard/feed/anime:1/reviews": 0,
            "hoard/feed/anime:1/blocks": 0,
        }
    )
    alarms = run_checks(facts(stats, coverage={}))
    assert alarms == [
        Alarm(
            "finish_reason",
            WATCH,
            URL + "?p=1",
            "layout_changed",
            "finished",
            "the crawl stopped early: layout_changed",
        ),
        Alarm(
            "feed_went_empty",
            WATCH,
            URL,
            0,
            790,
            "feed anime:1 yielded 0 reviews from 1 pages; its last run yielded 790 - check the "
            "page for a layout change",
        ),
        Alarm(
            "blocks_vanished",
            WATCH,
            URL,
            0,
            790,
            "feed anime:1: 1 pages carried 0 review blocks; its last run found 790 - the page "
            "layout probably changed",
        ),
    ]
    assert alarms[1].line() == (
        "alarm feed_went_empty: feed anime:1 yielded 0 reviews from 1 pages; its last run "
        f"yielded 790 - check the page for a layout change ({WATCH}, {URL})"
    )
    assert alarms[1].to_dict()["figure"] == 0


def test_empty_feed_without_history_is_no_alarm() -> None:
    stats = healthy_stats(**{"hoard/feed/anime:1/reviews": 0, "hoard/feed/anime:1/blocks": 0})
    assert run_checks(facts(stats, previous={}, coverage={})) == []


def test_watched_feed_never_reached_counts_as_empty() -> None:
    stats = healthy_stats()
    run = facts(
        stats,
        watch_of_feed={"anime:1": WATCH, "manga:2": "watch #2"},
        previous={"manga:2": FeedCounts(pages=1, reviews=3, blocks=3)},
    )
    [alarm] = run_checks(run)
    assert (alarm.check, alarm.watch, alarm.url, alarm.figure, alarm.threshold) == (
        "feed_went_empty",
        "watch #2",
        None,
        0,
        3,
    )


def test_field_coverage_below_99_percent_names_field_share_and_an_example() -> None:
    coverage = {
        "rating": Coverage(790, 800, "https://myanimelist.net/reviews.php?id=7"),
        "text": Coverage(800, 800),
        "author": Coverage(793, 800, "https://myanimelist.net/reviews.php?id=9"),
    }
    alarms = run_checks(facts(healthy_stats(), coverage=coverage))
    assert [(a.check, a.url, a.figure, a.threshold) for a in alarms] == [
        ("field_coverage", "https://myanimelist.net/reviews.php?id=7", 0.9875, 0.99)
    ]
    assert alarms[0].message == (
        "rating present on 790 of 800 reviews (98.8%, below 99%) - the parser misses it on "
        "some pages"
    )


def test_failure_rate_counts_final_errors_page_errors_and_429s() -> None:
    ok = healthy_stats(**{"downloader/response_status_count/429": 2})
    assert run_checks(facts(ok)) == []  # 2 of 40 = 5%: not above
    stats = healthy_stats(
        **{
            "downloader/response_status_count/429": 1,
            "hoard/feed/anime:1/request_errors": 2,
            "hoard/feed/anime:1/page_errors": 1,
        }
    )
    assert failures(stats) == 3
    [alarm] = run_checks(facts(stats))
    assert (alarm.check, alarm.url, alarm.figure, alarm.threshold) == (
        "failure_rate",
        URL,
        0.075,
        0.05,
    )
    assert alarm.message.startswith("2 failed and 1 answered 429 of 40 page requests (7.5%")


def test_interrupted_run_is_not_a_finish_reason_alarm() -> None:
    stats = healthy_stats(finish_reason="shutdown")
    assert run_checks(facts(stats, interrupted=True)) == []
    [alarm] = run_checks(facts(stats))
    assert (alarm.check, alarm.figure) == ("finish_reason", "shutdown")


def test_a_limit_the_user_set_is_not_an_alarm() -> None:
    for reason in ("closespider_pagecount", "closespider_itemcount", "closespider_timeout"):
        assert run_checks(facts(healthy_stats(finish_reason=reason))) == []
    [alarm] = run_checks(facts(healthy_stats(finish_reason="layout_changed")))
    assert alarm.figure == "layout_changed"
