"""The crawl's one Scrapy item pipeline: hands what the spider yields to the archive's writer.

A spider yields `items.Capture`s (one per response read) and `items.FeedWalked` events; this
pipeline passes them to the run's `archive.writer.ArchiveWriter` and nothing else. Under `hoard
crawl`/`hoard update` the runner owns the run's `crawls` row (`HOARD_CRAWL_ID`); under a plain
`scrapy crawl` the writer opens one and this pipeline closes it when Scrapy says why the crawl
ended.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals

from archive.writer import ArchiveWriter
from items import Capture, FeedWalked

_INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled"})


class CapturePipeline:
    """Passes captures and feed events to the run's writer."""

    def __init__(self, writer: ArchiveWriter, crawler: Any) -> None:
        self.writer = writer
        self.crawler = crawler
        writer.users += 1

    @classmethod
    def from_crawler(cls, crawler: Any) -> CapturePipeline:
        pipeline = cls(ArchiveWriter.for_crawler(crawler), crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Capture):
            self.writer.write(item)
        elif isinstance(item, FeedWalked):
            gone = self.writer.feed_walked(item)
            if self.crawler.stats is not None:
                self.crawler.stats.set_value(f"hoard/feed/{item.feed}/gone", gone)
        return item

    def close_spider(self) -> None:
        """Everything this crawler handed over is written before Scrapy reports the end."""
        self.writer.ctx.drain()

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """The last crawler of the run closes the writer; a row of its own is finished."""
        self.writer.users -= 1
        if self.writer.users > 0:
            return
        stats = self.crawler.stats
        get = stats.get_value if stats is not None else (lambda key, default=0: default)
        if not self.writer.own_run:
            self.writer.record_counts()
            self.writer.close()
            return
        errors = int(get("log_count/ERROR", 0) or 0)
        if reason in _INTERRUPTED_REASONS:
            outcome = "interrupted"
        elif errors or self.writer.ctx.count("hoard/reviews_rejected"):
            outcome = "partial"
        else:
            outcome = "ok" if reason == "finished" else reason
        self.writer.finish(
            outcome,
            requests=int(get("downloader/request_count", 0) or 0),
            errors=errors,
            finish_reason=reason,
        )
