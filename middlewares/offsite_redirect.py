"""A redirect off the site fails the page that got it (issue 10, item 3: gone means really gone).

Scrapy follows a 301/302/303/307/308 by scheduling a new request, and its offsite filter drops a
request to another host at scheduling without calling the request's errback: a feed page that
redirects to an address outside the site vanished without a word, and the feed was recorded
complete. This middleware sees the redirect answer first (before RedirectMiddleware) and, for a
feed's own page (`feed` in its meta) sent off the spider's `allowed_domains`, raises
IgnoreRequest naming the address: the spider's errback then marks the feed failed (no gone
marks, not complete) and logs one line. Redirects within the site are left to Scrapy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

REDIRECT_CODES = (301, 302, 303, 307, 308)


def on_site(host: str, allowed: list[str]) -> bool:
    """Whether `host` is one of `allowed` or a subdomain of one (Scrapy's offsite rule); an
    empty `allowed` allows every host."""
    host = host.lower().rstrip(".")
    return not allowed or any(host == d or host.endswith("." + d) for d in allowed)


class OffsiteRedirectMiddleware:
    """Downloader middleware: a feed page redirected off the site is a failed request."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        """The response, unless it redirects a feed's page off the site (IgnoreRequest)."""
        location = response.headers.get("Location")
        if (
            response.status not in REDIRECT_CODES
            or not location
            or "feed" not in request.meta
            or request.meta.get("dont_redirect")
        ):
            return response
        target = urljoin(request.url, location.decode("latin-1"))
        allowed = list(getattr(self.crawler.spider, "allowed_domains", None) or [])
        if on_site(urlsplit(target).hostname or "", allowed):
            return response
        raise IgnoreRequest(
            f"redirected off the site to {target} (HTTP {response.status}); not followed"
        )
