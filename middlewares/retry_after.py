"""Honour Retry-After on 429 and 503, back off exponentially without it, and know when to stop.

Scrapy's RetryMiddleware retries a 429 or 503 at once, which is the opposite of what the site
asked. This middleware takes those two codes over (settings.py removes them from
RETRY_HTTP_CODES): the request is retried no sooner than the Retry-After header says (seconds or
an HTTP date), or after `HOARD_BACKOFF_BASE * 2**(n-1)` seconds capped at `HOARD_BACKOFF_CAP`
when there is no header. While waiting, every request to that host waits too (the reactor keeps
running; nothing blocks). After `HOARD_MAX_CONSECUTIVE_THROTTLED` throttled answers in a row, or
when the site asks for a wait longer than `HOARD_RETRY_AFTER_MAX`, the crawl ends with the reason
`too_many_429` / `too_many_503` / `retry_after_too_long` instead of hammering on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

THROTTLE_CODES = (429, 503)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header value asks to wait (delta-seconds or HTTP date); None if
    absent or unreadable. A date in the past means 0."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to str.isdigit, not to float()
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff for the `attempt`-th retry (1-based): base, 2*base, 4*base... <= cap."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


class RetryAfterMiddleware:
    """Downloader middleware: polite retries of 429/503 (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("HOARD_RETRY_AFTER_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.max_times = settings.getint("HOARD_RETRY_AFTER_MAX_TIMES", 5)
        self.base = settings.getfloat("HOARD_BACKOFF_BASE", 5.0)
        self.cap = settings.getfloat("HOARD_BACKOFF_CAP", 300.0)
        self.max_wait = settings.getfloat("HOARD_RETRY_AFTER_MAX", 3600.0)
        self.max_consecutive = settings.getint("HOARD_MAX_CONSECUTIVE_THROTTLED", 5)
        self.consecutive = 0
        self.paused_until: dict[str, float] = {}
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"hoard/retry_after/{key}", count)

    async def process_request(self, request: Request) -> None:
        """Hold a request to a host the site asked us to leave alone until the wait is over."""
        host = urlparse_cached(request).netloc
        wait = self.paused_until.get(host, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        if self.closing:
            raise IgnoreRequest("crawl is closing after repeated throttling")

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in THROTTLE_CODES or request.meta.get("dont_retry"):
            self.consecutive = 0
            return response
        self.consecutive += 1
        self._inc(f"{response.status}")
        if self.consecutive >= self.max_consecutive:
            return self._close(f"too_many_{response.status}", request, response)
        attempt = request.meta.get("retry_after_times", 0) + 1
        if attempt > self.max_times:
            self._inc("gave_up")
            logger.error(
                "Gave up on %s after %d throttled answers (%d)",
                request.url, attempt - 1, response.status,
            )  # fmt: skip
            return response
        header = response.headers.get(b"Retry-After")
        asked = retry_after_seconds(header.decode("latin-1") if header else None)
        if asked is not None and asked > self.max_wait:
            return self._close("retry_after_too_long", request, response)
        wait = asked if asked is not None else backoff_seconds(attempt, self.base, self.cap)
        host = urlparse_cached(request).netloc
        self.paused_until[host] = max(self.paused_until.get(host, 0.0), time.monotonic() + wait)
        self._inc("retries")
        self._inc("waited_seconds", round(wait))
        logger.warning(
            "%s answered %d; retrying in %.1f s (%s, attempt %d of %d)",
            request.url, response.status, wait,
            "as Retry-After asks" if asked is not None else "backoff", attempt, self.max_times,
        )  # fmt: skip
        meta = {**request.meta, "retry_after_times": attempt}
        return request.replace(meta=meta, dont_filter=True)

    def _close(self, reason: str, request: Request, response: Response) -> Response:
        if not self.closing:
            self.closing = True
            logger.error(
                "Ending the crawl (%s): %s answered %d, %d throttled answers in a row",
                reason, request.url, response.status, self.consecutive,
            )  # fmt: skip
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
        return response
