"""What every crawl-running command (`hoard update`, `hoard crawl`) goes through, so that a run
left to cron behaves the same whichever command started it:

- the archive's run lock (a second run exits 75 at once);
- SIGINT/SIGTERM: Scrapy stops gracefully (items in flight are stored), the crawl is recorded as
  interrupted and the exit status is 130/143;
- data-quality alarms (`hoard.alarms`) over the run's stats and the archive's memory of earlier
  runs, stored on the crawl's row and making the exit status 3;
- a live progress line on a terminal, one summary line at the end, errors on stderr, the full
  Scrapy log in `--log-file`;
- a WAL checkpoint at the end, so the write-ahead log does not grow without bound.

The crawl itself runs in this process (`RunWatcher` is a Scrapy extension that sees it from the
inside: signals, field coverage, the progress line); the runner is given settings to add.
"""

from __future__ import annotations

import itertools
import logging
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO, cast

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.alarms import (
    COVERAGE_FIELDS,
    Alarm,
    Coverage,
    FeedCounts,
    RunFacts,
    failures,
    feed_counts,
    page_requests,
    run_checks,
)
from reviewhoard.hoard.lock import ArchiveLock, close_abandoned

if TYPE_CHECKING:
    from reviewhoard.hoard.crawl.run import CrawlResult, CrawlSpec

logger = logging.getLogger(__name__)

SIGNAL_STATUS: dict[int, int] = {
    signal.SIGINT.value: exitcodes.INTERRUPTED_SIGINT,
    signal.SIGTERM.value: exitcodes.INTERRUPTED_SIGTERM,
}


@dataclass(slots=True)
class RunState:
    """What the supervisor and the in-crawl extension share for one run."""

    progress: bool = False
    """Draw the live progress line (stderr is a terminal and not --quiet)."""
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    started: float = field(default_factory=time.monotonic)
    stats: list[Any] = field(default_factory=list)
    """The stats collectors of the run's crawlers (read live and at the end)."""
    coverage: dict[str, Coverage] = field(default_factory=dict)
    url_of_feed: dict[str, str] = field(default_factory=dict)
    signal: int | None = None
    """The first SIGINT/SIGTERM received during the crawl, if any."""
    feeds: list[str] = field(default_factory=list)
    """Every feed the run is meant to read."""
    marked: bool = False
    """The crawl row says which feeds this run reads (marked incomplete until it ends)."""
    crawlers: list[Any] = field(default_factory=list)
    """The run's crawlers: a stop signal empties their download queues at once."""

    def live_stats(self) -> dict[str, Any]:
        """The run's stats so far, over all its crawlers."""
        from reviewhoard.hoard.crawl.run import merge_stats

        return merge_stats([collector.get_stats() for collector in self.stats])


_RUNS: dict[str, RunState] = {}
"""Run id -> state; settings carry only the id, since Scrapy deep-copies settings."""
_RUN_IDS = itertools.count(1)
RUN_ID_SETTING = "HOARD_RUN_ID"
WAL_LIMIT_SETTING = "HOARD_WAL_LIMIT"
SUPERVISOR_SETTINGS: dict[str, Any] = {WAL_LIMIT_SETTING: 64 * 2**20}
"""Settings of supervised runs, with defaults. HOARD_WAL_LIMIT: bytes of write-ahead log past
which the run empties it while writing (see keep_wal_bounded); the same 64 MB the archive's
writer lets SQLite's own checkpoints reach, so the bound costs no extra syncs."""
WAL_CHECK_SECONDS = 0.25


class RunWatcher:
    """Scrapy extension of a supervised run: chains SIGINT/SIGTERM to remember which one came,
    counts field coverage of stored reviews, notes each feed's first URL, draws the progress
    line. Enabled by the supervisor's settings; does nothing in a plain `scrapy crawl`."""

    def __init__(self, crawler: Crawler, state: RunState) -> None:
        self.crawler = crawler
        self.state = state
        self._loop: Any = None
        self._wal_loop: Any = None
        assert crawler.stats is not None
        state.stats.append(crawler.stats)
        state.crawlers.append(crawler)
        for name in COVERAGE_FIELDS:
            state.coverage.setdefault(name, Coverage())
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)
        self._mark_feeds_incomplete()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunWatcher:
        state = _RUNS.get(crawler.settings.get(RUN_ID_SETTING) or "")
        if state is None:
            raise NotConfigured("not a supervised run")
        return cls(crawler, state)

    def _mark_feeds_incomplete(self) -> None:
        """Before any request, write on the crawl row that this run's feeds are not complete:
        if the process is killed, the next run knows to catch up on them."""
        crawl_id = self.crawler.settings.getint("HOARD_CRAWL_ID")
        if self.state.marked or not crawl_id:
            return
        from reviewhoard.archive.store import open_archive

        with open_archive(self.crawler.settings.get("HOARD_DB")) as archive:
            archive.record_crawl_feeds(crawl_id, {f: {"complete": False} for f in self.state.feeds})
        self.state.marked = True

    def engine_started(self) -> None:
        from twisted.internet import task

        self._chain_signals()
        if self.state.progress and self._loop is None:
            self._loop = task.LoopingCall(self.draw_progress)
            self._loop.start(1.0, now=True)
        if self._wal_loop is None:
            self._wal_loop = task.LoopingCall(self.keep_wal_bounded)
            self._wal_loop.start(WAL_CHECK_SECONDS, now=False)

    def engine_stopped(self) -> None:
        if self._wal_loop is not None and self._wal_loop.running:
            self._wal_loop.stop()
        if self._loop is not None and self._loop.running:
            self._loop.stop()
            self.state.stream.write("\r\033[K")
            self.state.stream.flush()

    def keep_wal_bounded(self) -> None:
        """SQLite's autocheckpoint copies the log into the database but can only start the log
        over when no reader is using it; with readers polling all the time (Datasette) it may
        never get the chance, and the log grows as big as the run's writes. Past the limit, a
        TRUNCATE checkpoint waits (briefly) for the readers of the moment and empties it."""
        wal = Path(str(self.crawler.settings.get("HOARD_DB") or "archive.db") + "-wal")
        limit = self.crawler.settings.getint(
            WAL_LIMIT_SETTING, SUPERVISOR_SETTINGS[WAL_LIMIT_SETTING]
        )
        try:
            if wal.stat().st_size <= limit:
                return
        except OSError:
            return
        # Short wait: the crawl's own thread waits too; busy now, the next tick tries again.
        checkpoint(wal.with_name(wal.name.removesuffix("-wal")), wait=0.05)

    def _chain_signals(self) -> None:
        """Put a recorder in front of Scrapy's shutdown handlers (installed at reactor start,
        before the engine starts), keeping Scrapy's graceful stop."""
        from twisted.internet import reactor

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if getattr(previous, "_hoard_recorder", False):
                continue
            if not callable(previous) or previous is signal.default_int_handler:
                # Scrapy has not installed its handlers yet: try again in a moment.
                cast(Any, reactor).callLater(0.2, self._chain_signals)
                return
            signal.signal(signum, self._recorder(previous))

    def _recorder(self, previous: Callable[[int, FrameType | None], Any]) -> Any:
        state = self.state

        def record(signum: int, frame: FrameType | None) -> Any:
            if state.signal is None:
                state.signal = signum
                waiting = drop_queued_downloads(state.crawlers)
                in_flight = sum(_in_flight(c) for c in state.crawlers)
                state.stream.write(
                    f"\r\033[Khoard: stopping: {waiting} queued request(s) dropped (the next run "
                    f"fetches them), finishing {in_flight}; press Ctrl-C again to stop now\n"
                )
                state.stream.flush()
            return previous(signum, frame)

        record._hoard_recorder = True  # type: ignore[attr-defined]
        return record

    def request_scheduled(self, request: Any, spider: Any) -> None:
        feed = request.meta.get("feed")
        if feed and feed not in self.state.url_of_feed:
            self.state.url_of_feed[feed] = request.meta.get("canonical_url") or request.url

    def item_scraped(self, item: Any, response: Any, spider: Any) -> None:
        from reviewhoard.items import Review

        if not isinstance(item, Review):
            return
        present = {
            "rating": item.rating is not None,
            "text": bool(item.text and item.text.strip()),
            "author": bool(item.author and item.author.name),
            "published_at": bool(item.published_at),
        }
        for name, ok in present.items():
            cov = self.state.coverage[name]
            cov.total += 1
            if ok:
                cov.present += 1
            elif cov.example_missing is None:
                cov.example_missing = item.url

    def draw_progress(self) -> None:
        text = progress_text(self.state.live_stats(), time.monotonic() - self.state.started)
        self.state.stream.write("\r\033[K" + text)
        self.state.stream.flush()


def drop_queued_downloads(crawlers: Iterable[Any]) -> int:
    """Stop scheduling at once: requests waiting in the downloader's per-host queues (behind
    the politeness delay) are failed as cancelled instead of fetched one delay after another,
    so a stop takes seconds, not a delay per feed. Returns how many were dropped; their feeds
    stay unfinished, so the next run fetches them."""
    from scrapy.exceptions import IgnoreRequest
    from twisted.python.failure import Failure

    dropped = 0
    for crawler in crawlers:
        downloader = getattr(getattr(crawler, "engine", None), "downloader", None)
        for slot in getattr(downloader, "slots", {}).values():
            while slot.queue:
                _request, deferred = slot.queue.popleft()
                deferred.errback(Failure(IgnoreRequest("stopped by the user before fetching")))
                dropped += 1
    return dropped


def _in_flight(crawler: Any) -> int:
    downloader = getattr(getattr(crawler, "engine", None), "downloader", None)
    return sum(len(s.transferring) for s in getattr(downloader, "slots", {}).values())


def _count(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key) or 0)


def _elapsed(seconds: float) -> str:
    """`4.2 s` under a minute, else `12:05` or `1:02:05`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_text(stats: Mapping[str, Any], elapsed: float) -> str:
    """`12 pages, 230 reviews (15 new, 2 updated), 0 errors, 0:34`."""
    feeds = feed_counts(stats).values()
    return (
        f"{sum(f.pages for f in feeds)} pages, {sum(f.reviews for f in feeds)} reviews "
        f"({_count(stats, 'hoard/reviews_new')} new, "
        f"{_count(stats, 'hoard/reviews_updated')} updated), "
        f"{failures(stats)} errors, {_elapsed(elapsed)}"
    )


@dataclass(slots=True)
class Outcome:
    """How a supervised run ended."""

    status: int
    """The exit status."""
    outcome: str
    """For the crawls row: ok, partial, alarm, interrupted."""
    stats: dict[str, Any]
    alarms: list[Alarm]
    errors: int
    elapsed: float
    feeds: dict[str, FeedCounts] = field(default_factory=dict)
    crawl_id: int | None = None
    result: CrawlResult | None = None
    """What the crawl runner returned."""

    def summary(self, command: str) -> str:
        """The one line every run ends with: `hoard update: ok: reviews 3 new, ...; exit 0`."""
        s = self.stats
        gone = sum(
            int(v or 0) for k, v in s.items() if k.startswith("hoard/feed/") and k.endswith("/gone")
        )
        pages = sum(f.pages for f in self.feeds.values())
        crawl = f", crawl {self.crawl_id}" if self.crawl_id is not None else ""
        return (
            f"{command}: {self.outcome}: reviews {_count(s, 'hoard/reviews_new')} new, "
            f"{_count(s, 'hoard/reviews_updated')} updated, "
            f"{_count(s, 'hoard/reviews_unchanged')} unchanged, {gone} gone; {pages} pages, "
            f"{self.errors} errors, {len(self.alarms)} alarms; {_elapsed(self.elapsed)}"
            f"{crawl}; exit {self.status}"
        )


def judge(
    result: CrawlResult, state: RunState, watch_of_feed: Mapping[str, str], db_path: Path
) -> Outcome:
    """Alarms and exit status of a finished crawl: interruption first (an interrupted run's
    figures mean nothing, so it raises no alarms), then alarms (3), then failures (1)."""
    stats = dict(result.stats)
    # One crawler's early stop must not hide behind another's "finished".
    stats["finish_reason"] = next(
        (o.finish_reason for o in result.outcomes if o.finish_reason != "finished"),
        stats.get("finish_reason", "finished"),
    )
    facts = RunFacts(
        stats=stats,
        watch_of_feed=watch_of_feed,
        url_of_feed=state.url_of_feed,
        previous=feed_history(db_path, watch_of_feed, result.crawl_id),
        coverage=state.coverage,
        interrupted=state.signal is not None or result.interrupted,
    )
    errors = failures(stats)
    elapsed = time.monotonic() - state.started
    feeds = facts.feeds()
    if facts.interrupted:
        status = SIGNAL_STATUS.get(
            state.signal or signal.SIGINT.value, exitcodes.INTERRUPTED_SIGTERM
        )
        return Outcome(
            status, "interrupted", stats, [], errors, elapsed, feeds, result.crawl_id, result
        )
    if stats.get("hoard/write_failed"):
        # What was fetched could not all be kept: no alarm or count means anything beside that.
        return Outcome(
            exitcodes.WRITE_FAILED, "failed", stats, [], errors, elapsed, feeds,
            result.crawl_id, result,
        )  # fmt: skip
    if result.unreachable:
        return Outcome(
            exitcodes.UNREACHABLE, "unreachable", stats, [], errors, elapsed, feeds,
            result.crawl_id, result,
        )  # fmt: skip
    alarms = run_checks(facts)
    if alarms:
        status, name = exitcodes.ALARM, "alarm"
    elif errors:
        status, name = exitcodes.PARTIAL, "partial"
    else:
        status, name = exitcodes.OK, "ok"
    return Outcome(status, name, stats, alarms, errors, elapsed, feeds, result.crawl_id, result)


def record(db_path: Path, result: CrawlResult, outcome: Outcome) -> None:
    """Close the run's `crawls` row: outcome, alarms, finish reason, per-feed counts."""
    if result.crawl_id is None:
        return
    finished = outcome.outcome not in ("interrupted", "failed") and (
        outcome.stats["finish_reason"] == "finished"
    )
    try:
        _finish(db_path, result, outcome, finished)
    except (sqlite3.Error, OSError) as exc:
        if outcome.outcome != "failed":
            raise
        logger.error("the run's crawls row could not be closed either: %s", exc)


def _finish(db_path: Path, result: CrawlResult, outcome: Outcome, finished: bool) -> None:
    from reviewhoard.archive.writer import finish_run

    assert result.crawl_id is not None
    s = outcome.stats
    finish_run(
        str(db_path),
        result.crawl_id,
        outcome.outcome,
        reviews_new=_count(s, "hoard/reviews_new"),
        reviews_updated=_count(s, "hoard/reviews_updated"),
        reviews_unchanged=_count(s, "hoard/reviews_unchanged"),
        reviews_rejected=_count(s, "hoard/reviews_rejected"),
        pages_stored=_count(s, "hoard/pages_stored"),
        requests=page_requests(s),
        errors=outcome.errors,
        alarms=[a.to_dict() for a in outcome.alarms],
        finish_reason=", ".join(sorted({o.finish_reason for o in result.outcomes})),
        feeds={
            feed: {
                **asdict(counts),
                "complete": finished and not (counts.page_errors or counts.request_errors),
            }
            for feed, counts in outcome.feeds.items()
        },
    )


def checkpoint(db_path: Path, mode: str = "TRUNCATE", wait: float = 1.0) -> None:
    """Fold the write-ahead log back into the database; TRUNCATE (at the end of a run) also
    empties the file. Waits at most `wait` seconds for readers: one still reading just leaves a
    partial checkpoint, which the next one finishes."""
    if not db_path.exists():
        return
    conn = sqlite3.connect(str(db_path), timeout=wait)
    try:
        busy, log, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        logger.debug("WAL checkpoint (%s): busy %s, %s frames, %s moved", mode, busy, log, done)
    except sqlite3.Error as exc:
        logger.warning("WAL checkpoint of %s failed: %s", db_path, exc)
    finally:
        conn.close()


def feed_history(
    db_path: Path, feeds: Iterable[str], before_crawl: int | None
) -> dict[str, FeedCounts]:
    """Each feed's counts in its latest earlier crawl that yielded reviews (the archive's
    memory)."""
    if not db_path.exists():
        return {}
    from reviewhoard.archive.queries import feed_history as query
    from reviewhoard.archive.store import read_connection

    conn = read_connection(db_path)
    try:
        found = query(conn, list(feeds), before_crawl)
    finally:
        conn.close()
    return {feed: FeedCounts.from_dict(counts) for feed, counts in found.items()}


def catch_up(db_path: Path, specs: list[CrawlSpec], feeds: Iterable[str]) -> list[CrawlSpec]:
    """`specs` with `catch_up=` naming the feeds a dead or failed earlier run left unfinished, so
    update mode walks past the pages it already has and fetches what that run missed. Only
    walkable feeds (a subject's whole list) are caught up on: a listing or a profile is a
    stream, not a finite list."""
    if not db_path.exists():
        return specs
    from reviewhoard.archive.queries import unfinished_feeds
    from reviewhoard.archive.store import read_connection
    from reviewhoard.hoard.crawl.run import CrawlSpec

    conn = read_connection(db_path)
    try:
        behind = unfinished_feeds(conn, [f for f in feeds if f in walkable_feeds(specs)])
    finally:
        conn.close()
    if not behind:
        return specs
    logger.info("catching up on feeds an earlier run left unfinished: %s", sorted(behind))
    return [CrawlSpec(s.spider, {**s.args, "catch_up": ",".join(sorted(behind))}) for s in specs]


def log_settings(path: Path | None, verbose: int = 0) -> dict[str, Any]:
    """Scrapy settings for the log: the full log (INFO, DEBUG at -vv) appended to `path` if
    given, else on stderr only errors (INFO at -v, DEBUG at -vv)."""
    from reviewhoard.hoard.logging_options import log_level

    if path is not None:
        level = "DEBUG" if verbose >= 2 else "INFO"
        return {"LOG_FILE": str(path), "LOG_FILE_APPEND": True, "LOG_LEVEL": level}
    return {"LOG_LEVEL": log_level(verbose)}


def _spiders(specs: list[CrawlSpec]) -> list[Any]:
    from scrapy.spiderloader import SpiderLoader

    from reviewhoard.hoard.crawl.run import project_settings

    loader = SpiderLoader.from_settings(project_settings())
    return [loader.load(s.spider)(**s.args) for s in specs]


def feeds_of(specs: list[CrawlSpec]) -> list[str]:
    """The feed keys (`app:620`, ...) the specs' spiders will read, as the spiders name them."""
    return [key for spider in _spiders(specs) for key in getattr(spider, "feeds", {})]


def walkable_feeds(specs: list[CrawlSpec]) -> set[str]:
    """The keys of the specs' feeds that list a subject's every review."""
    return {
        key
        for spider in _spiders(specs)
        for key, progress in getattr(spider, "feeds", {}).items()
        if progress.feed.walkable
    }


def supervise(
    db_path: Path,
    specs: list[CrawlSpec],
    settings_overrides: Mapping[str, Any],
    command: str,
    *,
    watch_of_feed: Mapping[str, str] | None = None,
    quiet: bool = False,
    verbose: int = 0,
    log_file: Path | None = None,
    stream: TextIO | None = None,
) -> Outcome:
    """Run `specs` into the archive under its lock (`hoard.crawl.run.run_crawls`), judge the run,
    record it on its `crawls` row, print alarms and the stop reason on stderr, and return the
    outcome (the caller prints the summary line and returns `outcome.status`).

    `watch_of_feed` names the watch of every feed the run is meant to read (default: each
    feed of the specs, named by the command). Raises LockedError (exit 75) when another run
    holds the archive.
    """
    from reviewhoard.hoard.crawl.run import project_settings, run_crawls

    stream = stream or sys.stderr
    if watch_of_feed is None:
        watch_of_feed = {feed: f"{command.split(' --')[0]} ({feed})" for feed in feeds_of(specs)}
    state = RunState(
        progress=stream.isatty() and not quiet and not verbose,
        stream=stream,
        feeds=list(watch_of_feed),
    )
    run_id = f"run-{next(_RUN_IDS)}"
    _RUNS[run_id] = state
    extensions = project_settings(settings_overrides).getdict("EXTENSIONS")
    overrides: dict[str, Any] = {
        **settings_overrides,
        RUN_ID_SETTING: run_id,
        "EXTENSIONS": {**extensions, "reviewhoard.hoard.crawl.supervise.RunWatcher": 0},
        **log_settings(log_file, verbose),
    }
    error_handler = _stderr_errors(stream) if log_file is not None else None
    try:
        with ArchiveLock(db_path, command=command):
            close_abandoned(db_path, stream)
            specs = catch_up(db_path, specs, watch_of_feed)
            try:
                result = run_crawls(str(db_path), specs, overrides, command, finish=False)
            finally:
                if error_handler is not None:
                    logging.getLogger().removeHandler(error_handler)
            outcome = judge(result, state, watch_of_feed, db_path)
            record(db_path, result, outcome)
            checkpoint(db_path)
    finally:
        _RUNS.pop(run_id, None)
    for alarm in outcome.alarms:
        stream.write(f"hoard: {alarm.line()}\n")
    reason = result.reason_line()
    if outcome.stats.get("hoard/write_failed"):
        reason = str(outcome.stats["hoard/write_failed"])
    if reason:
        stream.write(f"hoard: {reason}\n")
    stream.flush()
    return outcome


def _stderr_errors(stream: TextIO) -> logging.Handler:
    """With the log going to a file, errors still reach stderr (cron mails them)."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler
