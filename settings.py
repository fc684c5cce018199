"""Scrapy settings for reviewhoard: polite by default. The only module reading the environment."""

from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "reviewhoard"
SPIDER_MODULES = ["reviewhoard.spiders.named"]
NEWSPIDER_MODULE = "spiders"

# Who we are, honestly; a contact URL so site operators can reach the person running the crawl.
HOARD_CONTACT_URL = os.environ.get(
    "HOARD_CONTACT_URL", "https://github.com/reviewhoard/reviewhoard"
)
USER_AGENT = os.environ.get(
    "HOARD_USER_AGENT",
    f"reviewhoard/0.1 (+{HOARD_CONTACT_URL}; archiving community reviews)",
)

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_ITEMS = 8
"""What one response's output may have in the item pipelines at once (Scrapy's default: 100). A
feed page gives its capture, the next page's request, at most a feed's end and its follow-ups,
and the capture pipeline only hands the capture over; but Scrapy starts `CONCURRENT_ITEMS`
asyncio tasks for every response whatever it gives: 34,287 `create_task` calls in a 320-page
crawl under cProfile, 4,847 with 8. What that is worth in pages/s is within this host's noise:
`make bench` crawls with both side by side (benchmarks/bench_crawl.py), and three runs gave 44.6,
47.1 and 47.5 pages/s with 8 against 48.1, 41.7 and 46.2 with 100."""
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

# Only HTTP(S): no local files, S3, FTP or data: URLs can be reached through a crawl.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

# The archive file (a `hoard` command's --db overrides it).
HOARD_DB = os.environ.get("HOARD_DB", "archive.db")

# Where a site is reached when not at its own address (a replay site, a mirror):
# {"SITE": "http://127.0.0.1:8765"}. A `<NAME>_BASE_URL` setting or environment variable for any
# of a site's names does the same (the older spelling, e.g. for the `mal` alias).
HOARD_BASE_URLS: dict[str, str] = {}
globals().update(
    {name: value for name, value in os.environ.items() if name.endswith("_BASE_URL") and value}
)

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
WARN_ON_GENERATOR_RETURN_VALUE = False
"""Scrapy's check parses a callback's source (`ast`) for a `return value` in a generator, and
caches the answer by the bound method, which is new for every request: 1.4 ms of every page on
the crawl's thread, 6% of a crawl (py-spy). `make lint` makes the same check once, statically
(ruff's B901, in pyproject.toml)."""
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("HOARD_LOG_LEVEL", "INFO")

# Requests to the canonical site go to its base URL (before offsite and robots.txt see them);
# 429 and 503 are retried no sooner than Retry-After says, by our middleware, not Scrapy's.
DOWNLOADER_MIDDLEWARES = {
    "reviewhoard.middlewares.rebase.RebaseMiddleware": 40,
    # robots.txt as RFC 9309 reads it: unreadable (5xx, network error) means disallow all.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "reviewhoard.middlewares.robots.StrictRobotsTxtMiddleware": 100,
    "reviewhoard.middlewares.retry_after.RetryAfterMiddleware": 560,
    # Before RedirectMiddleware (600) sees it: a feed page redirected off the site fails.
    "reviewhoard.middlewares.offsite_redirect.OffsiteRedirectMiddleware": 650,
}
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
# A host that refuses connections or has no address is not retried: the crawl stops at once
# with one line (host_unreachable) instead of a minute of retries and tracebacks.
RETRY_EXCEPTIONS = [
    name
    for name in _scrapy_defaults.RETRY_EXCEPTIONS
    if name
    not in (
        "scrapy.exceptions.CannotResolveHostError",
        "scrapy.exceptions.DownloadConnectionRefusedError",
    )
]
RETRY_TIMES = 3
HOARD_RETRY_AFTER_MAX_TIMES = 5
"""Retries of one request answered 429/503 before giving up on it."""
HOARD_BACKOFF_BASE = 5.0
"""Seconds before the first retry of a 429/503 without Retry-After; doubles each time."""
HOARD_BACKOFF_CAP = 300.0
HOARD_RETRY_AFTER_MAX = 3600.0
"""A Retry-After longer than this ends the crawl (reason retry_after_too_long)."""
HOARD_MAX_CONSECUTIVE_THROTTLED = 5
"""This many 429/503 answers in a row end the crawl (reason too_many_429 / too_many_503)."""

# No listening ports opened by a crawl (a cron job needs no console; parallel runs never clash).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# What the spider yields (captures, feed events) goes to the archive's one writer, which runs
# the steps in pipelines/ (normalize, validate, drop repeats, store): see archive/writer.py.
ITEM_PIPELINES = {"reviewhoard.pipelines.capture.CapturePipeline": 100}
HOARD_STORE_BATCH = int(os.environ.get("HOARD_STORE_BATCH", "500"))
"""Reviews the store buffers before a write (at a page boundary): the most a killed crawl loses."""
