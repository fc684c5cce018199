"""The archive's one writer: captures in, rows out, whoever produced the captures.

A crawl (through `pipelines.capture.CapturePipeline`), `hoard import`, `hoard reparse` (and later
WARC files and workers on other machines) hand `items.Capture`s and `items.FeedWalked` events to an
`ArchiveWriter`; it alone turns them into rows:

- each capture's raw page is stored, then each of its reviews runs through the steps of
  `STEPS` in order (normalize, validate, drop repeats within the run, store), linked to its own
  capture's page; a refused capture keeps its raw page for `hoard reparse`, and no reviews;
- writes are batched transactions that always hold whole captures (a killed run loses at most the
  last unwritten batch, and never half a page);
- a `FeedWalked` event marks the subject's reviews the feed did not show as gone, after
  everything before it is written;
- `start_run` / `finish_run` open and close the run's `crawls` row: nothing else does.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewhoard.archive.store import Archive, open_archive
from reviewhoard.items import Capture, FeedWalked
from reviewhoard.pipelines.context import (
    DEFAULT_BATCH_SIZE,
    Dropped,
    PipelineContext,
    WriteFailed,
    crawl_counts,
)
from reviewhoard.pipelines.drop_repeats import DropRepeatsPipeline
from reviewhoard.pipelines.normalize import NormalizePipeline
from reviewhoard.pipelines.store import StorePipeline
from reviewhoard.pipelines.validate import ValidatePipeline

if TYPE_CHECKING:
    from reviewhoard.archive.writer_process import WriterProcess

STEPS = (NormalizePipeline, ValidatePipeline, DropRepeatsPipeline, StorePipeline)
"""What a review goes through, in order (one class a file in `pipelines/`)."""

GONE = "hoard/reviews_gone"

_BY_RUN: weakref.WeakValueDictionary[tuple[str, int | None, int], ArchiveWriter | WriterProcess] = (
    weakref.WeakValueDictionary()
)


def start_run(db_path: str, command: str, args: dict[str, Any] | str | None = None) -> int:
    """Open a `crawls` row (outcome `running`) for a run and return its id."""
    with open_archive(db_path) as archive:
        return archive.start_crawl(command, args)


def finish_run(
    db_path: str | Archive,
    crawl_id: int,
    outcome: str,
    *,
    feeds: dict[str, Any] | None = None,
    **figures: Any,
) -> None:
    """Close a run's `crawls` row: outcome, counts (`reviews_new=...`, `requests=`, `errors=`),
    `alarms`, `finish_reason`, and the per-feed figures later runs compare with."""

    def close(archive: Archive) -> None:
        archive.finish_crawl(crawl_id, outcome, **figures)
        if feeds is not None:
            archive.record_crawl_feeds(crawl_id, feeds)

    if isinstance(db_path, Archive):
        close(db_path)
        return
    with open_archive(db_path) as archive:
        close(archive)


class ArchiveWriter:
    """Writes one run's captures into the archive at `db_path`.

    `crawl_id`: the `crawls` row to record against; without one, give `command` (and `args`) and
    the writer opens its own row, closed by `finish()`. `background`: batches are written on a
    thread of their own while the producer goes on (at most one batch in flight), and with
    `early_batch` as soon as that many reviews wait and the thread is free. `reread`: for
    `hoard reparse` (pages already stored, read again by newer parsers). `inc_value`: where
    counts go besides `self.stats` (a crawler's stats collector).
    """

    def __init__(
        self,
        db_path: str,
        *,
        crawl_id: int | None = None,
        command: str | None = None,
        args: dict[str, Any] | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        background: bool = False,
        early_batch: int = 0,
        reread: bool = False,
        inc_value: Callable[[str, int], None] | None = None,
    ) -> None:
        self.ctx = PipelineContext(
            db_path,
            crawl_id=crawl_id,
            batch_size=batch_size,
            inc_value=inc_value,
            background=background,
            early_batch=early_batch,
        )
        self.ctx.reread = reread
        self.own_run = crawl_id is None and command is not None
        if self.own_run:
            assert command is not None
            self.ctx.crawl_id = self.ctx.call(lambda a: a.start_crawl(command, args))
        self.steps = [step(self.ctx) for step in STEPS]
        self.users = 0
        """Crawlers sharing this writer (`for_crawler`); the last to close it closes it."""
        self.lock: Any = None
        """The archive's run lock, when the writer took it itself (a plain `scrapy crawl`)."""

    @classmethod
    def for_crawler(cls, crawler: Any) -> ArchiveWriter | WriterProcess:
        """The one writer of the run this crawler belongs to (every crawler of a `hoard update`
        process shares it), made from the crawler's settings on first use: in a process of its
        own (`HOARD_WRITER_PROCESS`, the default), else in this one on a thread of its own
        (`HOARD_STORE_THREAD`)."""
        settings = crawler.settings
        raw_id = settings.get("HOARD_CRAWL_ID")
        crawl_id = int(raw_id) if raw_id not in (None, "") else None
        db_path = str(settings.get("HOARD_DB", "archive.db"))
        key = (db_path, crawl_id, 0 if crawl_id is not None else id(crawler))
        writer = _BY_RUN.get(key)
        if writer is not None:
            return writer
        from reviewhoard.hoard.lock import ArchiveLock, held_fd

        lock = None
        if crawl_id is None:
            # A plain `scrapy crawl` writes too: it holds the archive's run lock like
            # `hoard crawl` (a second run beside it exits at once, nothing mixed).
            lock = ArchiveLock(db_path, command=f"scrapy crawl {crawler.spidercls.name}")
            lock.acquire()
        stats = crawler.stats
        command = None if crawl_id is not None else f"scrapy crawl {crawler.spidercls.name}"
        batch_size = settings.getint("HOARD_STORE_BATCH", DEFAULT_BATCH_SIZE)

        def inc(key: str, n: int) -> None:
            # Counted on the first crawler of the run: the runner sums every crawler's stats.
            stats.inc_value(key, n)

        if settings.getbool("HOARD_WRITER_PROCESS", True):
            from reviewhoard.archive.writer_process import WriterProcess

            writer = WriterProcess(
                db_path,
                crawl_id=crawl_id,
                command=command,
                batch_size=batch_size,
                inc_value=inc,
                set_value=stats.set_value,
                lock_fd=held_fd(db_path),
            )
        else:
            writer = cls(
                db_path,
                crawl_id=crawl_id,
                command=command,
                batch_size=batch_size,
                background=settings.getbool("HOARD_STORE_THREAD", True),
                inc_value=inc,
            )
        writer.lock = lock
        _BY_RUN[key] = writer
        return writer

    @property
    def crawl_id(self) -> int:
        assert self.ctx.crawl_id is not None
        return self.ctx.crawl_id

    @property
    def stats(self) -> dict[str, int]:
        """This writer's counts by `hoard/...` stat name."""
        return self.ctx.stats

    @property
    def failure(self) -> WriteFailed | None:
        """The write that failed, if one did: then nothing more is written."""
        return self.ctx.failure

    def write(self, capture: Capture) -> None:
        """One capture: its raw page, then each of its reviews through the steps. Raises
        `WriteFailed` (one line: what, where, what was not stored) once the archive could not
        be written; nothing is written after that."""
        if self.ctx.failure is not None:
            raise self.ctx.failure
        self._run(capture.raw_page())
        for review in capture.reviews:
            review.extra["source_url"] = capture.url
            self._run(review)
        for completion in capture.completions:
            self.ctx.buffer(completion)

    def _run(self, item: Any) -> None:
        for step in self.steps:
            try:
                item = step.process_item(item)
            except Dropped:
                return

    def drain(self) -> None:
        """Write everything buffered and wait until it is written and counted."""
        self.ctx.drain()

    def count(self, key: str) -> int:
        """How many of `key` (a `hoard/...` stat) this run counted."""
        return self.ctx.count(key)

    def feed_walked(self, event: FeedWalked) -> int:
        """Mark the reviews of the feed's subject it did not show as gone, once everything
        before the event is written; returns how many were newly marked."""
        self.ctx.drain()
        crawl_id = self.ctx.crawl_id
        gone = self.ctx.call(
            lambda a: a.mark_gone(
                event.site,
                event.subject_type,
                event.subject_id,
                event.seen_ids,
                crawl_id,
                at=event.at,
            )
        )
        if gone:
            self.ctx.inc(GONE, gone)
        return gone

    def counts(self) -> dict[str, int]:
        """The run's review and page counts so far, named as the `crawls` columns (after
        writing everything buffered)."""
        self.ctx.drain()
        return {k: int(v) for k, v in crawl_counts(self.ctx).items()}  # type: ignore[call-overload]

    def record_counts(self, **extra: int) -> None:
        """Keep the run's counts on its row now (a row someone else finishes)."""
        counts = {**self.counts(), **extra}
        crawl_id = self.crawl_id
        self.ctx.call(lambda a: a.record_crawl_counts(crawl_id, **counts))

    def finish(self, outcome: str | None = None, **figures: Any) -> None:
        """Write what is left and close the run's row (`ok`, or `partial` with errors or
        rejects, unless `outcome` says; `failed` when a write failed), then close the archive.
        Raises `WriteFailed` when the archive could not be written (the row then says so if it
        still can be written)."""
        failure: WriteFailed | None = None
        try:
            try:
                self.ctx.drain()
            except WriteFailed as exc:
                failure = exc
            counts = dict(crawl_counts(self.ctx))
            if failure is not None:
                outcome = "failed"
                figures = {**figures, "finish_reason": "archive_write_failed"}
            elif outcome is None:
                failed = figures.get("errors") or counts["reviews_rejected"]
                outcome = "partial" if failed else "ok"
            crawl_id = self.crawl_id
            final = outcome
            try:
                self.ctx.call(lambda a: finish_run(a, crawl_id, final, **{**counts, **figures}))
            except (sqlite3.Error, OSError):
                if failure is None:
                    raise
        finally:
            self.close()
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Write what is left, then close the archive (after a failed write: just close), and
        let go of the run lock if the writer holds it."""
        try:
            self.ctx.close()
        except WriteFailed:
            if self.ctx.failure is None:
                raise
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None
