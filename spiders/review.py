"""The one review spider: where to go and when to stop, for any site. Sites say the rest.

A site (`sites/<key>/`) declares its feeds, its parser, how a feed's next page is asked for and
its crawl policy; `ReviewSpider` walks the feeds with them and yields what the archive's writer
needs, never writing or reading the archive itself:

- one `items.Capture` per response that reached the parser (its reviews, or the reason it was
  refused), so every page is kept raw for `hoard reparse`;
- `mode=update` (default) stops paging a feed at the first page whose reviews are all archived
  and unchanged, asked of the `archived_unchanged` predicate the runner hands over (read once),
  except for the feeds named in `catch_up=...` (left unfinished by an earlier run: walked whole);
  `mode=full` walks every page, and a walkable feed walked to its end yields an
  `items.FeedWalked` event, from which the writer marks the reviews it did not show as gone;
- a refused page ends the crawl with a reason the runner turns into exit status 3: `blocked` (a
  challenge or block page), `mobile_page` (a phone's truncated page) or `layout_changed`;
- per-feed stats `hoard/feed/<feed>/{pages,reviews,blocks,page_errors,request_errors}`, with
  `hoard/stop_url` and `hoard/stop_detail` naming the page and the reason a crawl was stopped.

Arguments (`-a NAME=VALUE`, or `hoard crawl SITE --NAME VALUE`): the site's feed options (values
separated by commas), `mode`, `catch_up`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    CloseSpider,
    DownloadConnectionRefusedError,
    IgnoreRequest,
)
from scrapy.http import Response
from twisted.python.failure import Failure

from reviewhoard.items import Capture, FeedWalked, Review, utc_now
from reviewhoard.middlewares.rebase import base_url_for, canonical_url
from reviewhoard.parsers import PageError, ParsedPage
from reviewhoard.sites import Feed, Site, all_sites

logger = logging.getLogger(__name__)

MODES = ("update", "full")
PHONE_MARKERS = ("Mobile", "iPhone", "iPad", "Android", "Windows Phone")
"""User-Agent words of phones and tablets: sites answer them with truncated mobile pages."""
BLOCKED_PREFIX = "blocked:"
"""How a parser's reason starts when the page is a challenge or block page, not a review page."""

ArchivedUnchanged = Callable[[Iterable[Review]], bool]


_SILENT_FAILURES = {
    "CancelledError": "the response grew over DOWNLOAD_MAXSIZE (16 MB) and was dropped",
    "_DataLoss": "the body was cut short (truncated: fewer bytes than Content-Length)",
    "ResponseNeverReceived": "no response: the connection closed before one came",
    "ConnectionLost": "the connection was lost before the response was whole",
    "TimeoutError": "no answer within DOWNLOAD_TIMEOUT",
}
"""Failures whose exception carries no message, by class name: what a person reads instead."""


def failure_reason(failure: Failure) -> str:
    """What went wrong with a request, in words, never empty: `failed: ` always names a cause
    (an HTTP status, a truncated body, a response over the size limit...)."""
    value = failure.value
    response = getattr(value, "response", None)
    if response is not None and getattr(response, "status", None):
        return f"HTTP {response.status}"
    message = failure.getErrorMessage().strip()
    if message and message not in ("[]", "None"):
        return message
    name = type(value).__name__
    return _SILENT_FAILURES.get(name, f"{name} (no message)")


@dataclass(slots=True)
class FeedProgress:
    """How far a feed got in this crawl."""

    feed: Feed
    seen_ids: set[str] = field(default_factory=set)
    subject_ids: set[str] = field(default_factory=set)
    """The subject ids its reviews named (a site may know a feed by a slug, its reviews by an
    id: Letterboxd's film slug and numeric film id)."""
    walked: bool = False
    """Reached its last page."""
    failed: bool = False
    """A request or page of it failed: not fully seen, so nothing may be marked gone."""


def _loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a replay site of the user's own, not a real site."""
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


def split_values(value: Any) -> list[str]:
    """`"1,5114"` (or a list of such strings) -> `["1", "5114"]`, blanks dropped."""
    items = value if isinstance(value, list | tuple) else [value]
    return [p.strip() for item in items if item for p in str(item).split(",") if p.strip()]


def flat_headers(response: Response) -> dict[str, str]:
    """Response headers with lowercased names, repeated ones joined with ", "."""
    return {
        k.decode("latin-1").lower(): ", ".join(v.decode("latin-1") for v in values)
        for k, values in response.headers.items()
    }


def page_error_reason(error: PageError) -> str:
    """The crawl's finish reason for a page the parser refused."""
    if error.reason.startswith(BLOCKED_PREFIX):
        return "blocked"
    return "mobile_page" if "mobile" in error.reason.lower() else "layout_changed"


def feeds_from_args(site: Site, args: dict[str, Any]) -> list[Feed]:
    """The feeds the spider's arguments ask for; ValueError names a bad value."""
    values = {o.name: split_values(args.get(o.name)) for o in site.options}
    for option in site.options:
        bad = [v for v in values[option.name] if option.choices and v not in option.choices]
        if bad:
            raise ValueError(f"{option.name} is one of {', '.join(option.choices)}, not {bad[0]!r}")
    return site.make_feeds({k: v for k, v in values.items() if v})


class ReviewSpider(scrapy.Spider):
    """Walks a site's feeds. Named subclasses, one per site name, are in `spiders.named`."""

    site_key: ClassVar[str]
    """The key of the site this spider crawls."""
    handle_httpstatus_list: ClassVar[list[int]] = [403]
    """A 403 reaches the spider: it is a block page, which stops the crawl (never retried)."""
    allowed_domains: list[str]
    download_delay: float

    def __init__(
        self,
        *args: Any,
        mode: str = "update",
        catch_up: str = "",
        archived_unchanged: ArchivedUnchanged | None = None,
        **kwargs: Any,
    ) -> None:
        options = {o.name for o in self.site().options}
        feed_args = {k: kwargs.pop(k) for k in list(kwargs) if k in options}
        super().__init__(*args, **kwargs)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.catch_up = set(split_values(catch_up))
        """Feeds whose last run did not finish (killed, interrupted, failed pages): in update
        mode they do not stop at a known page, so the pages that run missed are fetched now."""
        self.feeds = {f.key: FeedProgress(f) for f in feeds_from_args(self.site(), feed_args)}
        if not self.feeds:
            raise ValueError(f"nothing to crawl: {self.usage_hint()}")
        self.archived_unchanged = archived_unchanged
        self.base_url = self.site().base_url
        self.bases: tuple[str, str] | None = None
        """(canonical, base) when requests go to a replay site or a mirror."""

    @classmethod
    def site(cls) -> Site:
        return all_sites()[cls.site_key]

    @classmethod
    def usage_hint(cls) -> str:
        """How to ask for something to crawl, for the error when nothing was asked."""
        return "pass " + " or ".join(f"-a {o.name}={o.metavar}" for o in cls.site().options)

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
        site = cls.site()
        base = base_url_for(site, crawler.settings)
        spider.base_url = base
        # A reader of any site (no canonical host) fetches its pages where they are.
        moved = bool(site.base_url) and base != site.base_url
        spider.bases = (site.base_url, base) if moved else None
        hosts = {urlsplit(u).hostname or "" for u in (site.base_url, base) if u}
        hosts |= {urlsplit(f.feed.start_url).hostname or "" for f in spider.feeds.values()}
        spider.allowed_domains = sorted(h.lower() for h in hosts if h)
        base_host = (urlsplit(base).hostname or "").rstrip(".")
        real_site = spider.bases is None or site.serves(base_host)
        if real_site and not all(_loopback(h) for h in spider.allowed_domains):
            # Politeness towards the real site is not negotiable from the command line, however
            # its address is spelled (a port, http://, www., a trailing dot, capitals).
            delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
            spider.download_delay = max(delay, site.policy.min_delay)
        if spider.mode == "update" and spider.archived_unchanged is None:
            from reviewhoard.archive.known import KnownReviews

            db_path = str(crawler.settings.get("HOARD_DB") or "archive.db")
            spider.archived_unchanged = KnownReviews.read(db_path, site.key)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for progress in self.feeds.values():
            yield self.feed_request(progress.feed, progress.feed.start_url, page=1)

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

    def _canonical(self, response: Response) -> tuple[str, str]:
        """(the canonical URL asked for, the canonical URL that answered)."""
        requested = response.meta.get("canonical_url") or response.request.url  # type: ignore[union-attr]
        url = canonical_url(response.url, *self.bases) if self.bases else response.url
        return requested, url

    def capture(
        self, response: Response, requested: str, feed: Feed | None, page: int | None
    ) -> Capture:
        """The response as the writer takes it (reviews and refusal filled in by the caller)."""
        return Capture(
            url=requested,
            final_url=response.url,
            status=response.status,
            headers=flat_headers(response),
            body=response.body,
            fetched_at=utc_now(),
            site=self.site_key,
            parser_version=self.site().parser.PARSER_VERSION,
            feed=feed.key if feed else None,
            page=page,
        )

    def parse_feed_page(self, response: Response) -> Iterator[Any]:
        """Capture the page with its reviews, and follow the feed unless it is time to stop."""
        progress = self.feeds[response.meta["feed"]]
        feed = progress.feed
        page = int(response.meta.get("page", 1))
        requested, url = self._canonical(response)
        site = self.site()
        self._stat(feed, "pages")
        capture = self.capture(response, requested, feed, page)
        try:
            if response.status == 403:
                raise PageError(f"{BLOCKED_PREFIX} the site answered 403 Forbidden", url)
            parsed = site.parser.parse(response.body, url)
        except PageError as exc:
            progress.failed = True
            self._stat(feed, "page_errors")
            capture.refused = exc.reason
            yield capture
            raise self._stop(
                page_error_reason(exc), url, f"{feed.key} page {page} ({url}): {exc.reason}"
            ) from exc
        capture.reviews = parsed.reviews
        if feed.walkable and not all(site.feed_shows(feed, r.subject) for r in parsed.reviews):
            # Another title answered (a redirect): its reviews are kept, under the page that
            # served them, but this feed was not seen, so nothing may be marked gone from it.
            progress.failed = True
            self._stat(feed, "page_errors")
            served = response.meta.get("redirect_urls")
            logger.error(
                "%s page %d (%s) was answered with another subject's reviews%s; nothing will be "
                "marked gone for it",
                feed.key, page, requested, f" after a redirect to {url}" if served else "",
            )  # fmt: skip
        if response.meta.get("redirect_urls"):
            capture.url = url  # stored under the address that served it
        yield capture
        self._stat(feed, "blocks", parsed.block_count)
        self._stat(feed, "reviews", len(parsed.reviews))
        if (
            parsed.block_count == 0
            and not parsed.past_end
            and (parsed.next_url or page > 1 or feed.expects_reviews)
        ):
            progress.failed = True
            raise self._stop(
                "layout_changed",
                url,
                f"{feed.key} page {page} ({url}) carries no review blocks where reviews were "
                "expected; the site's layout may have changed - check the page and the parser",
            )
        progress.seen_ids.update(r.review_id for r in parsed.reviews)
        progress.subject_ids.update(
            r.subject.id for r in parsed.reviews if r.subject.type == feed.subject_type
        )
        # Whole texts are fetched only for cut reviews not archived whole already.
        unknown = [r for r in parsed.reviews if not self._archived_unchanged([r])]
        for follow_up in site.follow_ups(ParsedPage(unknown, None, len(unknown), parsed.kind)):
            yield scrapy.Request(
                follow_up,
                callback=self.parse_follow_up,
                errback=self.feed_request_failed,
                meta={"feed": feed.key, "page": page},
                priority=1,
            )
        next_url = site.next_page(feed, parsed, page)
        if next_url is None:
            progress.walked = True
            walked = self.feed_walked(progress)
            if walked is not None:
                yield walked
            return
        if (
            self.mode == "update"
            and feed.key not in self.catch_up
            and self.archived_unchanged is not None
            and self.archived_unchanged(parsed.reviews)
        ):
            self._stat(feed, "stopped_at_known")
            logger.info("%s: page %d is all archived and unchanged; stopping here", feed.key, page)
            return
        yield self.feed_request(feed, next_url, page + 1)

    def parse_follow_up(self, response: Response) -> Iterator[Capture]:
        """A page that completes a feed page's reviews (a cut review's whole text)."""
        progress = self.feeds[response.meta["feed"]]
        requested, url = self._canonical(response)
        capture = self.capture(response, requested, progress.feed, None)
        try:
            capture.completions = list(self.site().read_follow_up(response.body, url))
        except PageError as exc:
            progress.failed = True
            self._stat(progress.feed, "page_errors")
            capture.refused = exc.reason
            logger.error("%s: %s could not be read: %s", progress.feed.key, url, exc.reason)
        self._stat(progress.feed, "follow_ups")
        yield capture

    def _archived_unchanged(self, reviews: list[Review]) -> bool:
        return self.archived_unchanged is not None and self.archived_unchanged(reviews)

    def feed_walked(self, progress: FeedProgress) -> FeedWalked | None:
        """In full mode, the event that lets the writer mark a walked feed's unseen reviews
        gone; None when the feed cannot tell (not walkable, or a page of it failed)."""
        feed = progress.feed
        if self.mode != "full" or not feed.walkable or progress.failed:
            return None
        assert feed.subject_type is not None and feed.subject_id is not None
        named = progress.subject_ids
        if len(named) > 1:
            logger.warning("%s: its reviews name several subjects %s; none marked gone",
                           feed.key, sorted(named))  # fmt: skip
            return None
        return FeedWalked(
            site=self.site_key,
            feed=feed.key,
            subject_type=feed.subject_type,
            subject_id=next(iter(named), feed.subject_id),
            seen_ids=sorted(progress.seen_ids),
        )

    def feed_request_failed(self, failure: Failure) -> None:
        """A page of a feed could not be fetched: the feed is incomplete; count it."""
        request = failure.request  # type: ignore[attr-defined]
        progress = self.feeds[request.meta["feed"]]
        progress.failed = True
        if (
            failure.check(IgnoreRequest)
            and self.crawler.engine is not None
            and (
                not self.crawler.engine.running
                or "stopped by the user" in failure.getErrorMessage()
            )
        ):
            return  # dropped by a stop (Ctrl-C): the next run fetches it; not an error
        self._stat(progress.feed, "request_errors")
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value("hoard/first_failed_url") is None:
            self.crawler.stats.set_value("hoard/first_failed_url", request.url)
            self.crawler.stats.set_value("hoard/first_failure", failure_reason(failure))
        if failure.check(CannotResolveHostError, DownloadConnectionRefusedError):
            # A host that does not answer at all: one line, at once, not a retry storm.
            host = urlsplit(request.url).netloc
            what = "no such host" if failure.check(CannotResolveHostError) else "refused"
            detail = (
                f"cannot reach {host} ({what}) for {progress.feed.key} ({request.url}): "
                "check the address and the network, or that the mirror or replay site is running"
            )
            self.crawler.stats.set_value("hoard/stop_url", request.url)
            self.crawler.stats.set_value("hoard/stop_detail", detail)
            if self.crawler.engine is not None:
                self.crawler.engine.close_spider(self, "host_unreachable")
            return
        logger.error("%s: %s failed: %s", progress.feed.key, request.url, failure_reason(failure))
