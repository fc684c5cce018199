"""The crawl's one Scrapy item pipeline: hands what the spider yields to the archive's writer.

A spider yields `items.Capture`s (one per response read) and `items.FeedWalked` events; this
pipeline passes them to the run's `archive.writer.ArchiveWriter` and nothing else. Under `hoard
crawl`/`hoard update` the runner owns the run's `crawls` row (`HOARD_CRAWL_ID`); under a plain
`scrapy crawl` the writer opens one and this pipeline closes it when Scrapy says why the crawl
ended.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals

from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.archive.writer_process import WriterProcess
from reviewhoard.items import Capture, FeedWalked
from reviewhoard.pipelines.context import WriteFailed

logger = logging.getLogger(__name__)

_INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled"})


class CapturePipeline:
    """Passes captures and feed events to the run's writer."""

    def __init__(self, writer: ArchiveWriter | WriterProcess, crawler: Any) -> None:
        self.writer = writer
        self.crawler = crawler
        writer.users += 1

    @classmethod
    def from_crawler(cls, crawler: Any) -> CapturePipeline:
        pipeline = cls(ArchiveWriter.for_crawler(crawler), crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if self.writer.failure is not None:
            self._count("hoard/captures_not_stored")
            return item
        try:
            if isinstance(item, Capture):
                self.writer.write(item)
            elif isinstance(item, FeedWalked):
                gone = self.writer.feed_walked(item)
                # A writer process sets the stat itself once it knows the count.
                if gone is not None and self.crawler.stats is not None:
                    self.crawler.stats.set_value(f"hoard/feed/{item.feed}/gone", gone)
        except WriteFailed as failed:
            self._failed(failed)
        return item

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def _failed(self, failed: WriteFailed) -> None:
        """A write failed: the crawl stops now (what is fetched after could not be kept), the
        run says so in one line, and no page body ever reaches the log."""
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("hoard/write_failed", str(failed))
        self._log_failure(failed)
        engine, spider = self.crawler.engine, getattr(self.crawler, "spider", None)
        if engine is not None and spider is not None:
            engine.close_spider(spider, "archive_write_failed")

    def _log_failure(self, failed: WriteFailed) -> None:
        """Log the failed write: an error under a plain `scrapy crawl`, a warning under `hoard
        crawl`/`hoard update` (HOARD_RUN_ID set), whose own last line says it: at ERROR it
        would reach stderr twice (one line per error, as the README says)."""
        supervised = bool(self.crawler.settings.get("HOARD_RUN_ID"))
        logger.log(logging.WARNING if supervised else logging.ERROR, "%s", failed)

    def close_spider(self) -> None:
        """Everything this crawler handed over is written before Scrapy reports the end."""
        try:
            self.writer.drain()
        except WriteFailed as failed:
            if self.crawler.stats is not None and not self.crawler.stats.get_value(
                "hoard/write_failed"
            ):
                self.crawler.stats.set_value("hoard/write_failed", str(failed))
                self._log_failure(failed)

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """The last crawler of the run closes the writer; a row of its own is finished."""
        self.writer.users -= 1
        if self.writer.users > 0:
            return
        stats = self.crawler.stats
        get = stats.get_value if stats is not None else (lambda key, default=0: default)
        if not self.writer.own_run:
            if self.writer.failure is None:
                try:
                    self.writer.record_counts()
                except WriteFailed as failed:
                    if stats is not None:
                        stats.set_value("hoard/write_failed", str(failed))
            self.writer.close()
            return
        errors = int(get("log_count/ERROR", 0) or 0)
        if reason in _INTERRUPTED_REASONS:
            outcome = "interrupted"
        elif errors or self.writer.count("hoard/reviews_rejected"):
            outcome = "partial"
        else:
            outcome = "ok" if reason == "finished" else reason
        try:
            self.writer.finish(
                outcome,
                requests=int(get("downloader/request_count", 0) or 0),
                errors=errors,
                finish_reason=reason,
            )
        except WriteFailed as failed:
            logger.error("%s", failed)
