"""Send a site's requests to another base URL (a replay site or a mirror), and map URLs back.

Spiders work with canonical URLs (the site's own `base_url`) from start to finish: what they
request, what parsers see, what the archive stores. Where a site is reached elsewhere
(`HOARD_BASE_URLS = {"SITE": "URL"}`, or a `<NAME>_BASE_URL` setting for any of the site's names,
so `MAL_BASE_URL` keeps working), the spider's `bases` are (canonical, base) and every request to
the canonical site is rewritten to the base just before download, links found in pages included,
since they are followed as canonical URLs too. The response keeps the URL it was fetched from;
`canonical_url()` maps it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

    from reviewhoard.sites import Site


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def rebase_url(url: str, canonical: str, base: str) -> str:
    """`url` on the canonical site moved to `base` (path, query and fragment kept); else `url`."""
    if _origin(url) != _origin(canonical) or _origin(base) == _origin(canonical):
        return url
    scheme, netloc = _origin(base)
    prefix = urlsplit(base).path.rstrip("/")
    parts = urlsplit(url)
    return urlunsplit((scheme, netloc, prefix + parts.path, parts.query, parts.fragment))


def canonical_url(url: str, canonical: str, base: str) -> str:
    """The inverse of `rebase_url`: a URL fetched from `base` as the canonical site's URL."""
    if _origin(url) != _origin(base) or _origin(base) == _origin(canonical):
        return url
    parts = urlsplit(url)
    prefix = urlsplit(base).path.rstrip("/")
    path = parts.path[len(prefix) :] if prefix and parts.path.startswith(prefix) else parts.path
    scheme, netloc = _origin(canonical)
    return urlunsplit((scheme, netloc, path or "/", parts.query, parts.fragment))


def base_url_for(site: Site, settings: Any) -> str:
    """Where `site` is reached: `HOARD_BASE_URLS[key]`, else a `<NAME>_BASE_URL` setting for any
    of its names, else its own base URL. A trailing slash is dropped."""
    mapping = settings.getdict("HOARD_BASE_URLS") if hasattr(settings, "getdict") else {}
    for name in site.names:
        value = mapping.get(name) or settings.get(f"{name.upper()}_BASE_URL")
        if value:
            return str(value).rstrip("/")
    return site.base_url


class RebaseMiddleware:
    """Downloader middleware: requests to the spider's canonical site go to its configured base.

    Runs before Scrapy's offsite and robots.txt middlewares, so robots.txt is fetched from (and
    obeyed for) the host that is actually crawled.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RebaseMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> Request | None:
        bases = getattr(self.crawler.spider, "bases", None)
        if bases is None:
            return None
        moved = rebase_url(request.url, *bases)
        if moved == request.url:
            return None
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("hoard/rebased")
        return request.replace(url=moved, meta={**request.meta, "canonical_url": request.url})
