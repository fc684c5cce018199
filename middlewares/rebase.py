"""Send a site's requests to another base URL (a replay site or a mirror), and map URLs back.

Spiders work with canonical URLs (`https://myanimelist.net/...`) from start to finish: what they
request, what parsers see, what the archive stores. A spider that declares `canonical_base` and
`base_url_setting` (e.g. `MAL_BASE_URL`) gets every request to the canonical site rewritten to the
configured base just before download, links found in pages included, since they are followed as
canonical URLs too. The response keeps the URL it was fetched from; `canonical_url()` maps it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request


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


def spider_bases(spider: Spider | None, settings: Any) -> tuple[str, str] | None:
    """(canonical, base) for a spider that declares them and has a different base set; else None."""
    canonical = getattr(spider, "canonical_base", None)
    setting = getattr(spider, "base_url_setting", None)
    if not canonical or not setting:
        return None
    base = str(settings.get(setting) or canonical)
    return None if _origin(base) == _origin(canonical) else (canonical, base)


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
        bases = spider_bases(self.crawler.spider, self.crawler.settings)
        if bases is None:
            return None
        moved = rebase_url(request.url, *bases)
        if moved == request.url:
            return None
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("hoard/rebased")
        return request.replace(url=moved, meta={**request.meta, "canonical_url": request.url})
