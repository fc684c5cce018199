"""Politeness and rebasing rules, one function at a time (the crawls that use them are in
test_crawl_e2e.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy.utils.test import get_crawler

from reviewhoard.middlewares.rebase import canonical_url, rebase_url
from reviewhoard.middlewares.retry_after import backoff_seconds, retry_after_seconds
from reviewhoard.settings import DOWNLOAD_HANDLERS, DOWNLOAD_MAXSIZE, RETRY_HTTP_CODES, USER_AGENT
from reviewhoard.spiders.named import SPIDERS

MalSpider = SPIDERS["mal"]

MAL = "https://myanimelist.net"


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), (" 2 ", 2.0), ("0", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_seconds(header, expected):
    assert retry_after_seconds(header) == expected


def test_retry_after_http_date():
    now = datetime(2026, 11, 21, 5, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now=now.timestamp()) == 90.0
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(earlier, now=now.timestamp()) == 0.0


def test_backoff_doubles_up_to_the_cap():
    assert [backoff_seconds(n, 5.0, 60.0) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


@pytest.mark.parametrize(
    ("url", "base", "moved"),
    [
        (f"{MAL}/anime/1/_/reviews?p=2", "http://127.0.0.1:8765",
         "http://127.0.0.1:8765/anime/1/_/reviews?p=2"),
        (f"{MAL}/reviews.php?t=anime", "https://mirror.example/mal/",
         "https://mirror.example/mal/reviews.php?t=anime"),
        ("https://cdn.myanimelist.net/x.jpg", "http://127.0.0.1:8765",
         "https://cdn.myanimelist.net/x.jpg"),
        (f"{MAL}/anime/1", MAL, f"{MAL}/anime/1"),
    ],
)  # fmt: skip
def test_rebase_and_back(url, base, moved):
    assert rebase_url(url, MAL, base) == moved
    assert canonical_url(moved, MAL, base) == url


def test_spider_bases_come_from_the_spiders_setting():
    crawler = get_crawler(MalSpider, {"MAL_BASE_URL": "http://127.0.0.1:9"})
    spider = MalSpider.from_crawler(crawler, anime="1")
    assert spider.bases == (MAL, "http://127.0.0.1:9")
    assert spider.allowed_domains == ["127.0.0.1", "myanimelist.net"]
    assert spider.base_url == "http://127.0.0.1:9"


def test_the_real_site_gets_at_least_two_seconds_whatever_the_settings_say():
    real = get_crawler(MalSpider, {"DOWNLOAD_DELAY": 0, "MAL_BASE_URL": MAL})
    assert MalSpider.from_crawler(real, anime="1").download_delay == 2.0
    slower = get_crawler(MalSpider, {"DOWNLOAD_DELAY": 5, "MAL_BASE_URL": MAL})
    assert MalSpider.from_crawler(slower, anime="1").download_delay == 5.0
    replay = get_crawler(MalSpider, {"DOWNLOAD_DELAY": 0, "MAL_BASE_URL": "http://127.0.0.1:9"})
    assert not hasattr(MalSpider.from_crawler(replay, anime="1"), "download_delay")


def test_polite_defaults():
    assert USER_AGENT.startswith("reviewhoard/") and "+https://" in USER_AGENT
    assert not any(phone in USER_AGENT for phone in ("Mobile", "iPhone", "Android"))
    assert DOWNLOAD_MAXSIZE == 16 * 1024 * 1024
    assert DOWNLOAD_HANDLERS == {"file": None, "s3": None, "ftp": None, "data": None}
    assert 429 not in RETRY_HTTP_CODES and 503 not in RETRY_HTTP_CODES  # ours, with Retry-After


@pytest.mark.parametrize(
    "spelling",
    [
        "https://myanimelist.net:443",
        "http://myanimelist.net",
        "https://www.myanimelist.net",
        "https://myanimelist.net.",
        "https://MyAnimeList.NET/",
    ],
)
def test_the_floor_holds_however_the_real_host_is_spelled(spelling: str) -> None:
    crawler = get_crawler(MalSpider, {"DOWNLOAD_DELAY": 0, "MAL_BASE_URL": spelling})
    assert MalSpider.from_crawler(crawler, anime="1").download_delay == 2.0


@pytest.mark.parametrize("value", ["²", "١٢", "12abc", "-5", "Wed, 99 Foo 99999 99:99:99 GMT", "∞"])
def test_an_unreadable_retry_after_is_none_never_an_error(value: str) -> None:
    assert retry_after_seconds(value) is None
