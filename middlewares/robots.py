"""robots.txt as RFC 9309 reads it, where Scrapy's own middleware is more lenient.

Scrapy's RobotsTxtMiddleware parses whatever answer robots.txt gets, a 500 error page included
(which holds no rules, so everything is allowed), and allows everything when robots.txt could not
be fetched or its parser raised. RFC 9309 (2.3.1.3, 2.3.1.4) says otherwise, and so does a polite
crawler here:

- 2xx: the rules apply (bytes that are not UTF-8 are skipped; the lines that can be read count);
- 4xx: the site has no robots.txt, so nothing is disallowed;
- 5xx (after the usual retries), a network error, a timeout, a body over the size limit or one
  the parser rejects: robots.txt is unreachable, which means complete disallow. The crawl stops
  at once with one line (finish reason `robots_unreadable`, exit 3), since no page of that host
  may be fetched until it can be read again; the next run tries again.

(429 and 503 are the Retry-After middleware's before they get here: waited for, then
`too_many_429`/`too_many_503` if they go on.)
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    IgnoreRequest,
)
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

STOP_REASON = "robots_unreadable"
"""The crawl's finish reason when a host's robots.txt could not be read."""


class RobotsUnreadable(Exception):
    """robots.txt answered with a server error: its rules are unknown."""


class DisallowAll(RobotParser):
    """The rules of a host whose robots.txt could not be read: nothing is allowed."""

    @classmethod
    def from_crawler(cls, crawler: Any, robotstxt_body: bytes) -> DisallowAll:
        return cls()

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, but an unreadable robots.txt stops the crawl (see the
    module doc) instead of allowing every page."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._robots_urls: dict[str, str] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        # Kept to name it in the stop line (a download error does not carry its URL).
        self._robots_urls.setdefault(url.netloc, f"{url.scheme}://{url.netloc}/robots.txt")
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            # A server error page is not the site's rules (Scrapy would parse it as such).
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            raise RobotsUnreadable(f"{response.url} answered HTTP {response.status}")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest | CannotResolveHostError | DownloadConnectionRefusedError):
            # Dropped on purpose (a stop, a closing crawl), or no host there at all: the page
            # request then fails the same way and the spider stops the crawl as unreachable.
            super()._robots_error(exc, netloc)
            return
        waiting = self._parsers[netloc]
        rules = DisallowAll()
        self._parsers[netloc] = rules
        self._stop(netloc, exc)
        if isinstance(waiting, Deferred):
            waiting.callback(rules)  # the requests that waited for the rules get these

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, DisallowAll):
            # Not "Forbidden by robots.txt": the crawl is stopping, and says why once.
            raise IgnoreRequest(f"not fetched: {STOP_REASON}")
        super().process_request_2(rp, request)

    def _stop(self, netloc: str, exc: Exception) -> None:
        """Name the cause on the crawl's stats (the stop line) and close the spider."""
        stats = self._stats
        if stats.get_value("hoard/stop_detail") is None:
            cause = str(exc) if isinstance(exc, RobotsUnreadable) else _describe(exc)
            stats.set_value("hoard/stop_url", self._robots_urls.get(netloc, netloc))
            stats.set_value(
                "hoard/stop_detail",
                f"robots.txt of {netloc} could not be read ({cause}); a polite crawler fetches "
                "nothing from a site whose rules it cannot read (RFC 9309): try again later",
            )
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=STOP_REASON))


def _describe(exc: Exception) -> str:
    """`ConnectionDone: Connection was closed cleanly.` in a few words: the underlying cause
    when Scrapy wraps it (a response never received), never a traceback or a page body."""
    for _ in range(3):  # DownloadFailedError([Failure(ConnectionDone)]), ResponseNeverReceived
        reasons = getattr(exc, "reasons", None) or (
            exc.args[0] if exc.args and isinstance(exc.args[0], list) else None
        )
        cause = getattr(reasons[0], "value", reasons[0]) if reasons else exc.__cause__
        if not isinstance(cause, Exception):
            break
        exc = cause
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
