"""What the writer's steps of one run share: the archive, the crawl row, the write buffer, the
counts. `archive.writer.ArchiveWriter` makes one per run and hands it to each step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypedDict, TypeVar

from reviewhoard.archive.store import Archive, BatchResult, Reject
from reviewhoard.items import RawPage, Review
from reviewhoard.parsers.page import TextCompletion

STAT_PREFIX = "hoard/"
REVIEWS_NEW = "hoard/reviews_new"
REVIEWS_UPDATED = "hoard/reviews_updated"
REVIEWS_UNCHANGED = "hoard/reviews_unchanged"
REVIEWS_REJECTED = "hoard/reviews_rejected"
REVIEWS_DUPLICATE = "hoard/reviews_duplicate"
PAGES_STORED = "hoard/pages_stored"
PAGES_SEEN = "hoard/pages_seen"
TEXTS_COMPLETED = "hoard/texts_completed"

DEFAULT_BATCH_SIZE = 500
"""Reviews buffered before a write; a killed run loses at most this many unflushed items."""
EARLY_BATCH = 100
"""With a writer thread that is free, the reviews (5 pages of 20) worth a write before a batch
is full (`PipelineContext(early_batch=...)`)."""

T = TypeVar("T")


class Dropped(Exception):
    """Raised by a step for an item that goes no further: already counted (a repeat) or kept
    (a reject). The steps are run by `ArchiveWriter`, not by Scrapy, so this is not Scrapy's
    DropItem: the writer (in its own process, in `hoard import`) never loads Scrapy."""


class WriteFailed(Exception):
    """The archive could not be written: the batch was rolled back whole, and nothing after the
    last stored page was stored. `str()` is the one line a person reads."""

    def __init__(self, reason: str, db_path: str, last_stored: str | None) -> None:
        self.reason = reason
        self.db_path = db_path
        self.last_stored = last_stored
        after = f"nothing after {last_stored} was stored" if last_stored else "nothing was stored"
        super().__init__(f"archive write failed: {reason} at {db_path}; {after}")


def write_failure_reason(exc: BaseException) -> str:
    """What went wrong, in a few words: disk full, locked past the busy timeout, ..."""
    text = str(exc).lower()
    if "full" in text or getattr(exc, "errno", None) == 28:
        return "disk full"
    if "locked" in text or "busy" in text:
        return "another program held the archive past the busy timeout"
    if "readonly" in text or "read-only" in text:
        return "the archive is read-only"
    if "i/o" in text:
        return "disk I/O error"
    return f"{type(exc).__name__}: {exc}"


class PipelineContext:
    """The state one run's pipelines share.

    `inc` counts into Scrapy's stats collector when there is one, else into `stats`. The archive
    is opened on first write. `crawl_id` is the `crawls` row items are recorded against; when
    None the store pipeline opens (and closes) its own row.
    """

    def __init__(
        self,
        db_path: str,
        *,
        crawl_id: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        inc_value: Callable[[str, int], None] | None = None,
        background: bool = False,
        early_batch: int = 0,
    ) -> None:
        self.db_path = db_path
        self.crawl_id = crawl_id
        self.batch_size = batch_size
        self.stats: dict[str, int] = {}
        self._inc_value = inc_value
        self.pending: list[RawPage | Review | Reject | TextCompletion] = []
        self.pending_reviews = 0
        self.page_url: str | None = None
        """URL of the last raw page seen: where a rejected item came from."""
        self.page_fetched_at: str | None = None
        """When that page was fetched: when the reviews that follow it were seen."""
        self._archive: Archive | None = None
        self.reread = False
        """True for `hoard reparse`: pages are stored already and read again by newer parsers."""
        self._writer: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(1, thread_name_prefix="hoard-writer") if background else None
        )
        """With `background`, one thread owns the archive and writes a batch while the crawl
        parses the next pages (SQLite works without the GIL); at most one batch is in flight."""
        self.early_batch = early_batch if background else 0
        """With `background` (0: off): a page arriving over this many buffered reviews has them
        written at once when the writer thread is free, rather than when `batch_size` is
        reached. The writer then keeps up with its producer instead of being left, when the
        input ends, with a whole batch and another in flight to write alone (`hoard import
        --jobs 2`: the last 0.5 s of a 5.5 s run with one core idle)."""
        self._in_flight: Future[tuple[BatchResult, str | None]] | None = None
        self.last_stored: str | None = None
        """The URL of the last page written (committed): what a failure names."""
        self.failure: WriteFailed | None = None
        """Set once a write failed: later writes are refused, never half-done."""

    @property
    def archive(self) -> Archive:
        """The archive, opened (and migrated) on first use."""
        if self._archive is None:
            self._archive = Archive(self.db_path)
        return self._archive

    def inc(self, key: str, n: int = 1) -> None:
        """Count `n` more of `key` (a `hoard/...` stat)."""
        self.stats[key] = self.stats.get(key, 0) + n
        if self._inc_value is not None:
            self._inc_value(key, n)

    def count(self, key: str) -> int:
        """How many of `key` this run counted."""
        return self.stats.get(key, 0)

    def buffer(self, entry: RawPage | Review | Reject | TextCompletion) -> None:
        """Queue an entry for the next write; a page arriving over a full batch (or an early
        one, with the writer thread free) flushes first, so a page and the reviews parsed from
        it are committed together."""
        if isinstance(entry, RawPage):
            if self.pending_reviews >= self.batch_size or (
                self.early_batch
                and self.pending_reviews >= self.early_batch
                and (self._in_flight is None or self._in_flight.done())
            ):
                self.flush()
            self.page_url = entry.url
            self.page_fetched_at = entry.fetched_at
        else:
            self.pending_reviews += 1
        self.pending.append(entry)

    def call(self, fn: Callable[[Archive], T]) -> T:
        """Run `fn(archive)` where the archive lives (the writer thread, if any) and wait for it,
        after the batch in flight: the archive is only ever used by one thread at a time."""
        if self._writer is None:
            return fn(self.archive)
        self._collect()
        return self._writer.submit(lambda: fn(self.archive)).result()

    def flush(self) -> None:
        """Write everything buffered in one transaction; count the outcomes once written.

        With a writer thread the write goes on in the background: the previous batch is waited
        for (and counted) first, so batches stay in order and at most one is in flight.
        """
        if self.failure is not None:
            self.pending, self.pending_reviews = [], 0
            raise self.failure
        if not self.pending:
            return
        batch, self.pending, self.pending_reviews = self.pending, [], 0
        crawl_id, reread = self.crawl_id, self.reread
        last = next((e.url for e in reversed(batch) if isinstance(e, RawPage)), None)

        def write() -> tuple[BatchResult, str | None]:
            try:
                return self.archive.write(batch, crawl_id, reread=reread), last
            except (sqlite3.Error, OSError) as exc:
                raise WriteFailed(
                    write_failure_reason(exc), self.db_path, self.last_stored
                ) from exc

        if self._writer is None:
            self._written(write)
            return
        self._collect()
        self._in_flight = self._writer.submit(write)

    def _written(self, write: Callable[[], tuple[BatchResult, str | None]]) -> None:
        try:
            result, last = write()
        except WriteFailed as failed:
            self.failure = failed
            raise
        self._count(result)
        self.last_stored = last or self.last_stored

    def _collect(self) -> None:
        """Wait for the batch in flight, if any, and count it; its error is raised here."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            self._written(in_flight.result)

    def _count(self, result: BatchResult) -> None:
        for key, n in (
            (REVIEWS_NEW, result.new),
            (REVIEWS_UPDATED, result.updated),
            (REVIEWS_UNCHANGED, result.unchanged),
            (PAGES_STORED, result.pages_stored),
            (PAGES_SEEN, result.pages_seen),
            (TEXTS_COMPLETED, result.completed),
        ):
            if n:
                self.inc(key, n)

    def drain(self) -> None:
        """Write everything buffered and wait until it is written and counted."""
        self.flush()
        self._collect()

    def close(self) -> None:
        """Write what is left, then close the archive (on its own thread) and the writer."""
        try:
            self.drain()
        finally:
            if self.failure is not None and self._in_flight is not None:
                self._in_flight = None
            if self._archive is not None:
                self.call(lambda archive: archive.close())
                self._archive = None
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None


class ContextPipeline:
    """Base of the writer's steps: each is built on the run's shared context."""

    def __init__(self, ctx: PipelineContext) -> None:
        self.ctx = ctx


class CrawlCounts(TypedDict):
    """The review and page counts of a run, named as the `crawls` columns."""

    reviews_new: int
    reviews_updated: int
    reviews_unchanged: int
    reviews_rejected: int
    pages_stored: int


def crawl_counts(ctx: PipelineContext) -> CrawlCounts:
    """The run's review and page counts, named as the `crawls` columns."""
    return CrawlCounts(
        reviews_new=ctx.count(REVIEWS_NEW),
        reviews_updated=ctx.count(REVIEWS_UPDATED),
        reviews_unchanged=ctx.count(REVIEWS_UNCHANGED),
        reviews_rejected=ctx.count(REVIEWS_REJECTED),
        pages_stored=ctx.count(PAGES_STORED),
    )
