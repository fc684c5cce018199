"""`hoard worker --redis URL`: fetch and parse whatever the shared frontier holds.

A worker runs one Scrapy crawler per job it finds in Redis, with the job's spider, arguments and
settings (those of the `hoard crawl` or `hoard update` that submitted it), plus three parts of
its own:

- `FrontierScheduler` (the crawler's scheduler) takes the job's requests from Redis, a few per
  host at most, and keeps what it holds from being claimed by others while it lives;
- `HostLeaseMiddleware` (`politeness`) makes every request wait for its host's lease;
- the spider, made by `worker_spider()`, is the site's own spider, whose callbacks run whole and
  then hand what they yielded to `JobFrontier.commit` (captures, next requests, stats and the
  acknowledgement, in one transaction) instead of to Scrapy's pipelines and scheduler. A feed's
  progress (the review ids its pages showed, whether one failed) travels with its next page's
  request, so whichever worker reads the last page knows what the feed showed, as one local
  spider would.

Update mode's question ("all archived and unchanged?") is answered by `RedisKnownReviews`, from
what the writer has stored and published to Redis; a worker never reads an archive file.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, ClassVar, TextIO, cast

from scrapy import Request, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from reviewhoard.archive.hashing import content_hash
from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.distributed import keys
from reviewhoard.hoard.distributed.frontier import (
    MAX_DELIVERIES,
    Entry,
    JobFrontier,
    Outgoing,
    _str,
    active_jobs,
    decode_request,
    encode_request,
    job_record,
    request_host,
    worker_name,
)
from reviewhoard.hoard.distributed.link import RedisLink
from reviewhoard.items import Capture, FeedWalked, Review
from reviewhoard.pipelines.normalize import normalize_review
from reviewhoard.spiders.review import ReviewSpider

logger = logging.getLogger(__name__)

JOB_SETTING = "HOARD_REDIS_JOB"
VISIBILITY_SETTING = "HOARD_REDIS_VISIBILITY"
DEFAULT_VISIBILITY = 60.0
"""Seconds a request may stay with a worker that shows no sign of life before another worker
takes it over (a live worker renews what it holds three times per period)."""
PREFETCH_SETTING = "HOARD_REDIS_PREFETCH"
DEFAULT_PREFETCH = 2
"""Requests per host a worker holds at once: one in flight, one waiting for the host's lease
while the first is parsed (more would only keep them from other workers)."""
PULL_SECONDS = 0.05
STATE_SECONDS = 0.5
DISCOVER_SECONDS = 0.1
DISCOVER_BUSY_SECONDS = 0.5
"""While a job runs, new jobs are looked for less often (a run's jobs all arrive together)."""
LEASE_MIDDLEWARE = "reviewhoard.hoard.distributed.politeness.HostLeaseMiddleware"
ENTRY_META = "hoard_entry"
FEED_META = "hoard_feed"
TEXT_STATS = ("hoard/stop_url", "hoard/stop_detail", "hoard/first_failed_url")


@dataclass(slots=True)
class JobContext:
    """What one job's crawler parts share in a worker: its frontier, what it holds, its host
    leases and the site's delay."""

    frontier: JobFrontier
    held: dict[str, Entry] = field(default_factory=dict)
    """Entry id -> the request taken from the frontier, until committed."""
    leases: dict[str, str] = field(default_factory=dict)
    """Host -> this worker's token, while one of its requests is in flight there."""
    delay: float = 0.0
    """The site's delay between two requests to a host (the spider's, as Scrapy's slot would
    have used it)."""
    reported: dict[str, int] = field(default_factory=dict)
    """The crawler's numeric stats as last handed to Redis (the next commit sends the rest)."""
    texts_sent: set[str] = field(default_factory=set)
    pull: Callable[[], None] = lambda: None

    def commit(
        self,
        entry: Entry | None,
        items: list[Capture | FeedWalked],
        requests: list[Outgoing],
        counts: dict[str, int],
        texts: dict[str, str],
        stop: str | None = None,
    ) -> None:
        """`JobFrontier.commit`, then a pull (the response's next requests are in the frontier
        now). Done on the reactor's thread: a commit thread was measured slower (the JSON holds
        the GIL, and handing it back and forth costs more than the round trips it would hide)."""
        from twisted.internet import reactor

        self.frontier.commit(entry, items, requests, counts, texts, stop=stop)
        cast(Any, reactor).callLater(0, self.pull)

    def stats_delta(self, stats: dict[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
        """The crawler's counts since the last call, and the text stats not sent yet."""
        counts: dict[str, int] = {}
        for key, value in stats.items():
            if isinstance(value, bool) or not isinstance(value, int):
                continue
            diff = value - self.reported.get(key, 0)
            if diff:
                counts[key] = diff
                self.reported[key] = value
        texts = {}
        for key in TEXT_STATS:
            if stats.get(key) is not None and key not in self.texts_sent:
                texts[key] = str(stats[key])
                self.texts_sent.add(key)
        return counts, texts


_CONTEXTS: dict[str, JobContext] = {}
"""Job id -> its context in this process; settings carry only the id (Scrapy copies them)."""


def context_of(crawler: Crawler) -> JobContext | None:
    """The job context of a worker's crawler, or None for any other crawler."""
    return _CONTEXTS.get(str(crawler.settings.get(JOB_SETTING) or ""))


class RedisKnownReviews:
    """Update mode's predicate over a page's reviews, asked of the digests the writer publishes
    to Redis (`keys.known`), as `archive.known.KnownReviews` asks the archive file."""

    def __init__(self, link: RedisLink, site: str) -> None:
        self.link = link
        self.site = site

    def __call__(self, reviews: Iterable[Review]) -> bool:
        """True when every review is archived with the same content hash (normalized as the
        writer stores it); False for an empty page or a malformed review."""
        reviews = list(reviews)
        if not reviews:
            return False
        try:
            digests = [content_hash(normalize_review(r)) for r in reviews]
        except (AttributeError, TypeError, ValueError):
            return False
        ids = [str(r.review_id) for r in reviews]

        def read(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.hmget(keys.known(self.site), ids)
            pipe.hmget(keys.known_cut(self.site), ids)
            return cast(list[Any], pipe.execute())

        whole, cut = self.link.call(read)
        return all(d.encode() in (w, c) for d, w, c in zip(digests, whole, cut, strict=True))


class WorkerSpider(ReviewSpider):
    """The mixin a worker puts in front of a site's spider (`worker_spider`)."""

    job: ClassVar[str] = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        ctx = context_of(crawler)
        assert ctx is not None
        # Politeness moves to Redis (the host's lease keeps the delay for every worker); a local
        # slot delay on top would only slow this worker down.
        delay = getattr(spider, "download_delay", None)
        ctx.delay = float(
            delay if delay is not None else crawler.settings.getfloat("DOWNLOAD_DELAY")
        )
        spider.download_delay = 0.0
        return spider

    async def start(self) -> Any:
        """Nothing: the submitter queued the start requests, once, for every worker."""
        return
        yield  # an async generator with no items

    # -- callbacks: the site's own, run whole, then handed over --

    def parse_feed_page(self, response: Response) -> Iterator[Any]:
        feed = response.meta["feed"]
        progress = self.feeds[feed]
        carried = response.meta.get(FEED_META) or {}
        progress.seen_ids = set(carried.get("seen", ()))
        progress.subject_ids = set(carried.get("subjects", ()))
        progress.failed = bool(carried.get("failed", False))
        progress.walked = False
        return self._hand_over(response.request, super().parse_feed_page(response))

    def parse_follow_up(self, response: Response) -> Iterator[Capture]:
        return self._hand_over(response.request, super().parse_follow_up(response))

    def feed_request_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        try:
            super().feed_request_failed(failure)
        finally:
            self._hand_over(request, iter(()))

    def _hand_over(self, request: Request | None, outputs: Iterable[Any]) -> Iterator[Any]:
        """Run a callback's output to its end and commit it, with the request's
        acknowledgement; Scrapy gets nothing to process (an exception is re-raised after the
        commit, so a stopping page is still handed over)."""
        ctx = context_of(self.crawler)
        assert ctx is not None
        items: list[Capture | FeedWalked] = []
        requests: list[Request] = []
        error: BaseException | None = None
        try:
            for out in outputs:
                if isinstance(out, Request):
                    requests.append(out)
                elif isinstance(out, Capture | FeedWalked):
                    items.append(out)
        except Exception as exc:  # CloseSpider included: committed first, raised below
            error = exc
        self._carry_feed_state(requests)
        outgoing = [self._outgoing(r) for r in requests]
        entry = ctx.held.pop(str(request.meta.get(ENTRY_META)), None) if request else None
        stop = error.reason if isinstance(error, CloseSpider) else None
        if entry is not None or items or outgoing or stop:
            assert self.crawler.stats is not None
            counts, texts = ctx.stats_delta(self.crawler.stats.get_stats())
            ctx.commit(entry, items, outgoing, counts, texts, stop=stop)
        else:
            from twisted.internet import reactor

            cast(Any, reactor).callLater(0, ctx.pull)
        if error is not None:
            raise error
        return iter(())

    def _carry_feed_state(self, requests: list[Request]) -> None:
        for request in requests:
            if getattr(request.callback, "__name__", "") != "parse_feed_page":
                continue
            progress = self.feeds.get(request.meta.get("feed", ""))
            if progress is None:
                continue
            request.meta[FEED_META] = {
                "seen": sorted(progress.seen_ids),
                "subjects": sorted(progress.subject_ids),
                "failed": progress.failed,
            }

    def _outgoing(self, request: Request) -> Outgoing:
        fingerprint = None
        if not request.dont_filter:
            fingerprint = self.crawler.request_fingerprinter.fingerprint(request)
        return Outgoing(request_host(request.url, self.bases), encode_request(request), fingerprint)


_SPIDERS: dict[type, type] = {}


def worker_spider(spidercls: type[ReviewSpider]) -> type[ReviewSpider]:
    """The site's spider class with `WorkerSpider` in front (same name, same arguments)."""
    made = _SPIDERS.get(spidercls)
    if made is None:
        made = type(spidercls.__name__, (WorkerSpider, spidercls), {"name": spidercls.name})
        _SPIDERS[spidercls] = made
    return made


class FrontierScheduler:
    """The scheduler of a worker's job crawler: requests come from the job's frontier in Redis
    and are held locally only while they are this worker's (see the module doc)."""

    def __init__(self, crawler: Crawler, ctx: JobContext) -> None:
        self.crawler = crawler
        self.ctx = ctx
        self.ready: deque[Request] = deque()
        self.visibility = crawler.settings.getfloat(VISIBILITY_SETTING, DEFAULT_VISIBILITY)
        self.prefetch = max(1, crawler.settings.getint(PREFETCH_SETTING, DEFAULT_PREFETCH))
        self.finished = False
        self.stopping = False
        self._loops: list[Any] = []
        self._checked = 0.0
        self._hosts_checked = 0.0
        ctx.pull = self.pull

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        ctx = context_of(crawler)
        if ctx is None:
            raise RuntimeError(f"{cls.__name__} runs only in a worker's job crawler")
        return cls(crawler, ctx)

    def open(self, spider: Any) -> None:
        from twisted.internet import task

        self.crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        pull = task.LoopingCall(self.pull)
        pull.start(PULL_SECONDS, now=True)
        touch = task.LoopingCall(self.touch)
        touch.start(self.visibility / 3, now=False)
        self._loops = [pull, touch]

    def close(self, reason: str) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()

    def has_pending_requests(self) -> bool:
        return bool(self.ready)

    def enqueue_request(self, request: Request) -> bool:
        """A request of ours coming back (a retry, a redirect) stays here; any other goes to
        the frontier for whichever worker takes it."""
        if ENTRY_META in request.meta:
            self.ready.append(request)
            return True
        spider = cast(WorkerSpider, self.crawler.spider)
        self.ctx.commit(None, [], [spider._outgoing(request)], {}, {})
        return True

    def next_request(self) -> Request | None:
        return self.ready.popleft() if self.ready else None

    def spider_idle(self) -> None:
        if not self.finished:
            raise DontCloseSpider

    def touch(self) -> None:
        """Keep what this worker holds (entries and leases) from being taken over."""
        self.ctx.frontier.touch(self.ctx.held.values(), dict(self.ctx.leases))

    def pull(self) -> None:
        """Take requests of the job for hosts where this worker holds fewer than `prefetch`,
        and hand them to the engine; notice when the job is finished or stopped."""
        if self.finished or self.stopping or self.crawler.engine is None:
            return
        now = time.monotonic()
        if now - self._checked >= STATE_SECONDS:
            self._checked = now
            finished, stop = self.ctx.frontier.state()
            if stop:
                self.stopping = True
                logger.info("job %s stopped by another worker (%s)", self.ctx.frontier.job_id,
                            stop)  # fmt: skip
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(self.crawler.engine.close_spider_async(reason=stop))
                return
            if finished and not self.ctx.held:
                self.finished = True
                # Idle now: close at once rather than at the engine's next heartbeat.
                from scrapy.utils.defer import deferred_from_coro

                deferred_from_coro(self.crawler.engine.close_spider_async(reason="finished"))
                return
        spider = self.crawler.spider
        held_per_host: dict[str, int] = {}
        for mine in self.ctx.held.values():
            held_per_host[mine.host] = held_per_host.get(mine.host, 0) + 1
        if now - self._hosts_checked >= STATE_SECONDS or not self.ctx.frontier.hosts:
            # Hosts this worker queued requests to are known from its commits; those of other
            # workers' are looked up now and then, not before every take.
            self._hosts_checked = now
            self.ctx.frontier.refresh_hosts()
        for host in sorted(self.ctx.frontier.hosts):
            while held_per_host.get(host, 0) < self.prefetch:
                entry = self.ctx.frontier.take(host)
                if entry is None:
                    break
                held_per_host[host] = held_per_host.get(host, 0) + 1
                if entry.deliveries > MAX_DELIVERIES:
                    self._give_up(entry)
                    continue
                request = decode_request(entry.data, cast(Any, spider))
                request.meta[ENTRY_META] = entry.id
                self.ctx.held[entry.id] = entry
                if entry.deliveries > 1:
                    self._inc("reclaimed")
                self.crawler.engine.crawl(request)

    def _give_up(self, entry: Entry) -> None:
        logger.error("giving up on a request delivered %d times without an answer: %s",
                     entry.deliveries, entry.data[:200])  # fmt: skip
        self.ctx.commit(entry, [], [], {"hoard/redis/gave_up": 1}, {})

    def _inc(self, what: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"hoard/redis/{what}")


class Worker:
    """The worker process: finds jobs in Redis, runs a crawler for each, ends when asked (or
    when nothing is left, with `exit_when_idle`)."""

    def __init__(
        self,
        process: CrawlerProcess,
        link: RedisLink,
        overrides: dict[str, Any],
        exit_when_idle: bool,
        stream: TextIO,
    ) -> None:
        self.process = process
        self.link = link
        self.overrides = overrides
        self.exit_when_idle = exit_when_idle
        self.stream = stream
        self.consumer = worker_name()
        self.crawlers: dict[str, Crawler] = {}
        self.finished: set[str] = set()
        self.signal: int | None = None
        self.stopping = False
        self.waiting_said = False
        self._loop: Any = None
        self._discovered = 0.0
        link.give_up = lambda: self.signal is not None

    def start(self) -> None:
        from twisted.internet import task

        warm_up(self.process.settings)
        self._chain_signals()
        self._loop = task.LoopingCall(self.discover)
        self._loop.start(DISCOVER_SECONDS, now=True)

    def discover(self) -> None:
        """Start a crawler for each active job this worker has not run; stop when idle."""
        if self.stopping or self.signal is not None:
            return
        now = time.monotonic()
        if self.crawlers and now - self._discovered < DISCOVER_BUSY_SECONDS:
            return
        self._discovered = now
        self._chain_signals()  # again: Scrapy installs its handlers after ours may have been
        jobs = active_jobs(self.link)
        for run_id, job_id in jobs:
            if job_id not in self.crawlers and job_id not in self.finished:
                self.start_job(run_id, job_id)
        if self.exit_when_idle and not jobs and not self.crawlers:
            self.stopping = True
            from twisted.internet import reactor

            cast(Any, reactor).stop()

    def start_job(self, run_id: str, job_id: str) -> None:
        """A crawler of the job's spider with its arguments and settings, fed by Redis."""
        from scrapy.spiderloader import SpiderLoader

        from reviewhoard.hoard.crawl.run import project_settings

        record = job_record(self.link, job_id)
        if not record:
            return
        args: dict[str, Any] = json.loads(record["args"])
        if args.get("mode", "update") == "update" and not self._writer_ready():
            return
        job_settings = json.loads(record.get("settings") or "{}")
        base = project_settings(job_settings)
        middlewares = {**base.getdict("DOWNLOADER_MIDDLEWARES"), LEASE_MIDDLEWARE: 990}
        settings = project_settings(
            {
                **job_settings,
                **self.overrides,
                JOB_SETTING: job_id,
                "SCHEDULER": f"{__name__}.FrontierScheduler",
                "DOWNLOADER_MIDDLEWARES": middlewares,
                # Captures go to Redis from the spider's callbacks, never to a local archive.
                "ITEM_PIPELINES": {},
            }
        )
        visibility = settings.getfloat(VISIBILITY_SETTING, DEFAULT_VISIBILITY)
        frontier = JobFrontier(self.link, job_id, run_id, self.consumer, visibility)
        _CONTEXTS[job_id] = JobContext(frontier)
        spidercls = SpiderLoader.from_settings(settings).load(record["spider"])
        crawler = Crawler(worker_spider(cast(type[ReviewSpider], spidercls)), settings)
        if args.get("mode", "update") == "update":
            site = getattr(spidercls, "site_key", record["spider"])
            args["archived_unchanged"] = RedisKnownReviews(self.link, site)
        self.crawlers[job_id] = crawler
        deferred = self.process.crawl(crawler, **args)
        deferred.addBoth(lambda _: self.job_closed(job_id, crawler))

    def _writer_ready(self) -> bool:
        ready = self.link.call(lambda r: r.hget(keys.WRITER, "ready"))
        if ready:
            return True
        if not self.waiting_said:
            self.waiting_said = True
            self.stream.write(
                "hoard worker: waiting for the writer (hoard write --redis ...) to publish what "
                "the archive holds before crawling in update mode\n"
            )
            self.stream.flush()
        return False

    def job_closed(self, job_id: str, crawler: Crawler) -> None:
        """Send the crawler's last stats; an alarm stop stops the job for every worker."""
        from reviewhoard.hoard.crawl.run import ALARM_REASONS

        ctx = _CONTEXTS.pop(job_id, None)
        self.crawlers.pop(job_id, None)
        stats = crawler.stats.get_stats() if crawler.stats else {}
        reason = str(stats.get("finish_reason", ""))
        if ctx is not None:
            counts, texts = ctx.stats_delta(stats)
            stop = reason if reason in ALARM_REASONS else None
            if counts or texts or stop:
                ctx.frontier.commit(None, [], [], counts, texts, stop=stop)
        if reason not in ("shutdown", "cancelled"):
            self.finished.add(job_id)

    # -- signals --

    def _chain_signals(self) -> None:
        """Note SIGINT/SIGTERM (for the exit status) in front of Scrapy's graceful stop."""
        from twisted.internet import reactor

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if getattr(previous, "_hoard_recorder", False):
                continue
            if not callable(previous) or previous is signal.default_int_handler:
                cast(Any, reactor).callLater(0.2, self._chain_signals)
                return
            if getattr(previous, "__module__", "").startswith("twisted"):
                continue  # Scrapy's own handler replaces Twisted's after startup
            signal.signal(signum, self._recorder(previous))

    def _recorder(self, previous: Callable[[int, FrameType | None], Any]) -> Any:
        def record(signum: int, frame: FrameType | None) -> Any:
            if self.signal is None:
                self.signal = signum
            return previous(signum, frame)

        record._hoard_recorder = True  # type: ignore[attr-defined]
        return record

    @property
    def status(self) -> int:
        """0, or 130/143 after SIGINT/SIGTERM."""
        if self.signal == signal.SIGINT:
            return exitcodes.INTERRUPTED_SIGINT
        if self.signal == signal.SIGTERM:
            return exitcodes.INTERRUPTED_SIGTERM
        return exitcodes.OK


WARM_CLASSES = ("SCHEDULER_PRIORITY_QUEUE", "DOWNLOADER", "STATS_CLASS", "DUPEFILTER_CLASS",
                "REQUEST_FINGERPRINTER_CLASS", "ROBOTSTXT_PARSER")  # fmt: skip
WARM_COMPONENTS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ADDONS")


def warm_up(settings: Any) -> None:
    """Import now what a job's crawler will load (spiders, components, the HTTP download
    handler), so a run's first job starts within milliseconds of its submission instead of
    importing Scrapy's downloader then: a worker lives long, and a local crawl pays this before
    its spider opens. A failure here is only a slower first job."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.misc import load_object

    try:
        loader = SpiderLoader.from_settings(settings)
        for name in loader.list():
            loader.load(name)
        paths = [settings.get(name) for name in WARM_CLASSES]
        for name in WARM_COMPONENTS:
            paths += list(settings.getwithbase(name))
        handlers = settings.getwithbase("DOWNLOAD_HANDLERS")
        paths += [handlers.get("http"), handlers.get("https"), LEASE_MIDDLEWARE]
        for path in paths:
            if isinstance(path, str):
                load_object(path)
    except Exception:  # only a speed-up: the job itself reports a real problem
        logger.debug("warming up failed", exc_info=True)


def run_worker(
    url: str,
    *,
    exit_when_idle: bool = False,
    overrides: dict[str, Any] | None = None,
    verbose: bool = False,
    stream: TextIO | None = None,
) -> int:
    """Run a worker until SIGINT/SIGTERM (or until idle); its exit status."""
    from scrapy.utils.reactor import install_reactor

    from reviewhoard.hoard.crawl.run import project_settings

    stream = stream or sys.stderr
    overrides = {**(overrides or {})}
    base = {"LOG_LEVEL": "INFO" if verbose else "ERROR", **overrides}
    settings = project_settings(base)
    install_reactor(settings["TWISTED_REACTOR"])
    link = RedisLink(url, "hoard worker", stream)
    process = CrawlerProcess(settings)
    worker = Worker(process, link, base, exit_when_idle, stream)
    from twisted.internet import reactor

    cast(Any, reactor).callWhenRunning(worker.start)
    process.start(stop_after_crawl=False)
    link.close()
    return worker.status


__all__ = ["RedisKnownReviews", "WorkerSpider", "_str", "run_worker", "worker_spider"]
