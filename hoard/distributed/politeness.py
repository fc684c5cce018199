"""Politeness across every worker: one request in flight per host, the site's delay between
requests to it, and a 429/503's wait, whatever the number of workers.

`HostLeaseMiddleware` is the downloader middleware nearest the network, so everything a worker
sends passes it: feed pages, follow-ups, retries, redirects and robots.txt alike. Before a
request goes out it takes the host's lease in Redis (`SET NX PX`, Redis' documented lock),
waiting (without blocking the reactor) while another worker has a request to that host in
flight (asking again every few milliseconds), while one of this worker's own is (until its
answer gives the lease back here), and while the delay after the last one runs or the host
asked everyone to wait (as long as Redis says is left). When the answer (or the error) is back,
the lease is given back as the site's delay: the key stays for that many milliseconds, so no
worker asks the host anything sooner. A 429 or 503 also sets the host's pause for the wait its
Retry-After asks (or the backoff `RetryAfterMiddleware` will use), so every worker waits, not
only the one that was told.

A worker that dies holding a lease loses it when the lease expires (the visibility timeout); a
live worker renews what it holds (`JobFrontier.touch`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from reviewhoard.middlewares.retry_after import THROTTLE_CODES, backoff_seconds, retry_after_seconds

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from reviewhoard.hoard.distributed.worker import JobContext

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.002
"""Wait between two tries for a lease another worker's request in flight holds."""
OWN_WAIT_SECONDS = 1.0
"""Longest wait for this worker's own request in flight before asking Redis again (its answer
gives the lease back at once; this only bounds a lease lost meanwhile)."""
LEASE_META = "hoard_lease"


class HostLeaseMiddleware:
    """Downloader middleware of a worker's job crawler (see the module doc)."""

    def __init__(self, crawler: Crawler, ctx: JobContext) -> None:
        self.crawler = crawler
        self.ctx = ctx
        settings = crawler.settings
        self.base = settings.getfloat("HOARD_BACKOFF_BASE", 5.0)
        self.cap = settings.getfloat("HOARD_BACKOFF_CAP", 300.0)
        self.max_wait = settings.getfloat("HOARD_RETRY_AFTER_MAX", 3600.0)
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        """Host -> requests of this worker waiting for its own request in flight there."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostLeaseMiddleware:
        from reviewhoard.hoard.distributed.worker import context_of

        ctx = context_of(crawler)
        if ctx is None:
            raise NotConfigured("not a worker's crawler")
        return cls(crawler, ctx)

    async def process_request(self, request: Request) -> None:
        """Wait for the host's lease, then let the request go."""
        host = (urlparse_cached(request).hostname or "").lower()
        token = uuid.uuid4().hex
        waited = False
        while True:
            wait_ms = self.ctx.frontier.acquire(host, token)
            if wait_ms == 0:
                break
            waited = True
            if wait_ms > 0:  # the delay after a request, or a pause: its end is known
                await asyncio.sleep(wait_ms / 1000)
            elif host in self.ctx.leases:
                await self._given_back(host)
            else:  # another worker's request is in flight: its end is not known here
                await asyncio.sleep(POLL_SECONDS)
        if waited:
            self._inc("waited")
        self.ctx.leases[host] = token
        request.meta[LEASE_META] = (host, token)

    def process_response(self, request: Request, response: Response) -> Response:
        """Give the lease back as the site's delay; on 429/503 pause the host for everyone."""
        held = self._give_back(request)
        if held is not None and response.status in THROTTLE_CODES:
            header = response.headers.get(b"Retry-After")
            asked = retry_after_seconds(header.decode("latin-1") if header else None)
            if asked is None:
                attempt = int(request.meta.get("retry_after_times", 0)) + 1
                asked = backoff_seconds(attempt, self.base, self.cap)
            if asked <= self.max_wait:
                self.ctx.frontier.pause(held, asked)
                self._inc("paused")
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        """The request failed: the lease goes back all the same (with the delay)."""
        self._give_back(request)

    async def _given_back(self, host: str) -> None:
        """Until this worker's own request in flight to `host` gives the lease back (no need
        to ask Redis meanwhile), or `OWN_WAIT_SECONDS` at most."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(host, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, OWN_WAIT_SECONDS)
        except TimeoutError:
            pass
        finally:
            waiting = self._waiting.get(host, [])
            if waiter in waiting:
                waiting.remove(waiter)

    def _give_back(self, request: Request) -> str | None:
        lease = request.meta.pop(LEASE_META, None)
        if lease is None:
            return None
        host, token = lease
        if self.ctx.leases.get(host) == token:
            del self.ctx.leases[host]
        self.ctx.frontier.release(host, token, self.ctx.delay)
        for waiter in self._waiting.pop(host, []):
            if not waiter.done():
                waiter.set_result(None)
        return str(host)

    def _inc(self, what: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"hoard/redis/lease_{what}")
