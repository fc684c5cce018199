"""The shared review spider: response -> parser -> raw page, reviews -> next page, per feed.

A site's spider is configuration on top of `ReviewSpider`: which feeds to walk (from its
arguments), how a feed's next page is asked for, and the site's canonical base URL. Everything
else lives here, once:

- every response that reaches the parser is yielded as a `RawPage` before its reviews, even when
  the parser refuses it, so `hoard reparse` can rebuild the archive without the network;
- `mode=update` (default) stops paging a feed at the first page whose reviews are all archived
  and unchanged (asked of the archive before the pipelines store anything of this page), except
  for the feeds named in `catch_up=anime:1,...` (left unfinished by an earlier run: walked whole);
  `mode=full` walks every page, and afterwards marks the unseen reviews of each fully walked title
  `gone_at` (never deleted);
- a refused page ends the crawl with a reason the runner turns into exit status 3:
  `mobile_page` (a phone's truncated page) or `layout_changed` (the parser does not recognise the
  page, or a feed page that should have reviews carries no review blocks);
- per-feed stats `hoard/feed/<feed>/{pages,reviews,blocks,page_errors,request_errors}`, with
  `hoard/stop_url` and `hoard/stop_detail` naming the page and the reason a crawl was stopped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from items import RawPage, Review
from middlewares.rebase import canonical_url, spider_bases
from parsers import PageError, ParsedPage, parser_for

logger = logging.getLogger(__name__)

MODES = ("update", "full")
PHONE_MARKERS = ("Mobile", "iPhone", "iPad", "Android", "Windows Phone")
"""User-Agent words of phones and tablets: MAL answers them with the truncated mobile page."""


@dataclass(slots=True)
class Feed:
    """One paged list of reviews: a title's reviews tab, a site-wide listing, a profile."""

    key: str
    """Stats name: `anime:1`, `manga:1`, `recent:anime`, `user:NAME`."""
    start_url: str
    """Canonical URL of its first page."""
    subject_type: str | None = None
    """For a title's feed: the subject's type and id (what `gone_at` applies to)."""
    subject_id: str | None = None
    expects_reviews: bool = False
    """True when an empty first page can only mean a layout change (a site-wide listing)."""
    seen_ids: set[str] = field(default_factory=set)
    walked: bool = False
    """Reached its last page."""
    failed: bool = False
    """A request or page of it failed: not fully seen, so nothing may be marked gone."""


def now_utc() -> str:
    """Now, ISO 8601 UTC with seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def flat_headers(response: Response) -> dict[str, str]:
    """Response headers with lowercased names, repeated ones joined with ", "."""
    return {
        k.decode("latin-1").lower(): ", ".join(v.decode("latin-1") for v in values)
        for k, values in response.headers.items()
    }


def page_error_reason(error: PageError) -> str:
    """The crawl's finish reason for a page the parser refused."""
    return "mobile_page" if "mobile" in error.reason.lower() else "layout_changed"


class ReviewSpider(scrapy.Spider):
    """Base of the review spiders. Subclasses set the class attributes and `make_feeds`."""

    site: ClassVar[str]
    """The parser's site key ("myanimelist")."""
    canonical_base: ClassVar[str]
    """The real site, e.g. "https://myanimelist.net"; what stored URLs use."""
    base_url_setting: ClassVar[str]
    """The setting that points the spider elsewhere (a replay site, a mirror)."""
    min_delay: ClassVar[float] = 2.0
    """The least delay between requests to the real site, whatever DOWNLOAD_DELAY says."""
    allowed_domains: list[str]
    download_delay: float

    def __init__(self, *args: Any, mode: str = "update", catch_up: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.catch_up = {key for key in catch_up.split(",") if key}
        """Feeds whose last run did not finish (killed, interrupted, failed pages): in update
        mode they do not stop at a known page, so the pages that run missed are fetched now."""
        self.feeds: dict[str, Feed] = {f.key: f for f in self.make_feeds(kwargs)}
        if not self.feeds:
            raise ValueError(f"nothing to crawl: {self.usage_hint()}")
        self.base_url = self.canonical_base

    # -- what a site spider provides ---------------------------------------------------------

    def make_feeds(self, args: dict[str, Any]) -> list[Feed]:
        """The feeds the spider's arguments ask for."""
        raise NotImplementedError

    def usage_hint(self) -> str:
        """How to ask for something to crawl, for the error when nothing was asked."""
        return "pass a feed argument"

    def next_page_url(self, feed: Feed, parsed: ParsedPage) -> str | None:
        """The canonical URL of the feed's next page, or None on its last page."""
        return parsed.next_url

    @classmethod
    def settings_problem(cls, settings: Any) -> str | None:
        """Why these settings cannot crawl the site (one line), or None when they can."""
        agent = str(settings.get("USER_AGENT") or "")
        phone = next((m for m in PHONE_MARKERS if m.lower() in agent.lower()), None)
        if phone:
            return (
                f"USER_AGENT {agent!r} looks like a phone ({phone}); sites send phones truncated "
                "mobile pages - use a desktop or the project's own User-Agent"
            )
        return None

    # -- set-up ------------------------------------------------------------------------------

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        problem = cls.settings_problem(crawler.settings)
        if problem:
            raise ValueError(problem)
        spider = super().from_crawler(crawler, *args, **kwargs)
        bases = spider_bases(spider, crawler.settings)
        spider.base_url = bases[1] if bases else cls.canonical_base
        hosts = {urlsplit(u).hostname or "" for u in (cls.canonical_base, spider.base_url)}
        spider.allowed_domains = sorted(h.lower() for h in hosts if h)
        if bases is None:
            # Politeness towards the real site is not negotiable from the command line.
            delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
            spider.download_delay = max(delay, cls.min_delay)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for feed in self.feeds.values():
            yield self.feed_request(feed, feed.start_url, page=1)

    def feed_request(self, feed: Feed, url: str, page: int) -> scrapy.Request:
        """A request for one page of a feed."""
        return scrapy.Request(
            url,
            callback=self.parse_feed_page,
            errback=self.feed_request_failed,
            meta={"feed": feed.key, "page": page},
        )

    # -- the loop ----------------------------------------------------------------------------

    def _stat(self, feed: Feed, what: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"hoard/feed/{feed.key}/{what}", count)

    def _stop(self, reason: str, url: str, detail: str) -> CloseSpider:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("hoard/stop_url", url)
        self.crawler.stats.set_value("hoard/stop_detail", detail)
        logger.error("Stopping the crawl (%s): %s", reason, detail)
        return CloseSpider(reason)

    def parse_feed_page(self, response: Response) -> Iterator[RawPage | Review | scrapy.Request]:
        """Store the page raw, yield its reviews, and follow the feed unless it is time to stop."""
        feed = self.feeds[response.meta["feed"]]
        page = int(response.meta.get("page", 1))
        requested = response.meta.get("canonical_url") or response.request.url  # type: ignore[union-attr]
        url = canonical_url(response.url, self.canonical_base, self.base_url)
        parser = parser_for(self.site)
        self._stat(feed, "pages")
        try:
            parsed = parser.parse(response.body, url)
        except PageError as exc:
            feed.failed = True
            self._stat(feed, "page_errors")
            yield self.raw_page(response, requested, parser.PARSER_VERSION)
            raise self._stop(
                page_error_reason(exc), url, f"{feed.key} page {page} ({url}): {exc.reason}"
            ) from exc
        yield self.raw_page(response, requested, parser.PARSER_VERSION)
        self._stat(feed, "blocks", parsed.block_count)
        self._stat(feed, "reviews", len(parsed.reviews))
        if parsed.block_count == 0 and (parsed.next_url or page > 1 or feed.expects_reviews):
            feed.failed = True
            raise self._stop(
                "layout_changed",
                url,
                f"{feed.key} page {page} ({url}) carries no review blocks where reviews were "
                "expected; the site's layout may have changed - check the page and the parser",
            )
        for review in parsed.reviews:
            review.extra.setdefault("source_url", requested)
            feed.seen_ids.add(review.review_id)
            yield review
        next_url = self.next_page_url(feed, parsed)
        if next_url is None:
            feed.walked = True
            return
        if (
            self.mode == "update"
            and feed.key not in self.catch_up
            and self.all_archived_unchanged(parsed.reviews)
        ):
            self._stat(feed, "stopped_at_known")
            logger.info("%s: page %d is all archived and unchanged; stopping here", feed.key, page)
            return
        yield self.feed_request(feed, next_url, page + 1)

    def raw_page(self, response: Response, requested: str, parser_version: str) -> RawPage:
        """The response as the archive keeps it: canonical URL, and where it was fetched."""
        return RawPage(
            url=requested,
            final_url=response.url,
            status=response.status,
            headers=flat_headers(response),
            body=response.body,
            fetched_at=now_utc(),
            site=self.site,
            parser_version=parser_version,
        )

    def feed_request_failed(self, failure: Failure) -> None:
        """A page of a feed could not be fetched: the feed is incomplete; count it."""
        request = failure.request  # type: ignore[attr-defined]
        feed = self.feeds[request.meta["feed"]]
        feed.failed = True
        self._stat(feed, "request_errors")
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value("hoard/first_failed_url") is None:
            self.crawler.stats.set_value("hoard/first_failed_url", request.url)
        logger.error("%s: %s failed: %s", feed.key, request.url, failure.getErrorMessage())

    # -- the archive's side --------------------------------------------------------------------

    @property
    def db_path(self) -> str:
        return str(self.crawler.settings.get("HOARD_DB") or "archive.db")

    def all_archived_unchanged(self, reviews: Iterable[Review]) -> bool:
        """True when every review is already in the archive with the same content hash (of the
        review as the pipelines will store it: normalized first)."""
        from archive.hashing import content_hash
        from archive.queries import review_hashes
        from pipelines.normalize import normalize_review

        reviews = list(reviews)
        if not reviews or not Path(self.db_path).is_file():
            return False
        known = review_hashes(self.db_path, self.site, [r.review_id for r in reviews])
        try:
            return all(known.get(r.review_id) == content_hash(normalize_review(r)) for r in reviews)
        except (AttributeError, TypeError, ValueError):
            return False  # a malformed review: the pipelines reject it; keep paging

    def closed(self, reason: str) -> None:
        """After a full crawl that finished: mark what each fully walked title no longer shows."""
        if self.mode != "full" or reason != "finished":
            return
        titles = [f for f in self.feeds.values() if f.subject_type and f.walked and not f.failed]
        if not titles:
            return
        from archive.store import open_archive

        crawl_id = self.crawler.settings.getint("HOARD_CRAWL_ID") or None
        assert self.crawler.stats is not None
        with open_archive(self.db_path) as archive:
            for feed in titles:
                assert feed.subject_type is not None and feed.subject_id is not None
                gone = archive.mark_gone(
                    self.site, feed.subject_type, feed.subject_id, feed.seen_ids, crawl_id
                )
                self.crawler.stats.set_value(f"hoard/feed/{feed.key}/gone", gone)
                if gone:
                    logger.info("%s: %d archived reviews are gone from the site", feed.key, gone)
