"""Pipeline 4 of 4: store raw pages and reviews in the archive, in batched transactions.

Items are buffered and written every `HOARD_STORE_BATCH` reviews (at a page boundary, so a page
and its reviews commit together) and at close: a run killed mid-way loses at most the unflushed
batch and never leaves half an item. Outcomes are counted in the crawler stats
(`hoard/reviews_new`, `_updated`, `_unchanged`, `_rejected`, `hoard/pages_stored`) and in the
run's `crawls` row. Without `HOARD_CRAWL_ID` (a plain `scrapy crawl`) this pipeline opens and
finishes its own `crawls` row.
"""

from __future__ import annotations

from typing import Any, TypedDict

from scrapy import signals

from items import RawPage, Review
from pipelines.context import (
    PAGES_STORED,
    REVIEWS_NEW,
    REVIEWS_REJECTED,
    REVIEWS_UNCHANGED,
    REVIEWS_UPDATED,
    PipelineContext,
)

_INTERRUPTED_REASONS = frozenset({"shutdown", "cancelled"})


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


class StorePipeline:
    """Buffers pages and reviews and writes them to the archive in batches."""

    def __init__(self, ctx: PipelineContext, command: str = "scrapy crawl") -> None:
        self.ctx = ctx
        self.command = command
        self.own_crawl = False
        self.crawler: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        spider_name = getattr(crawler.spidercls, "name", "?")
        pipeline = cls(PipelineContext.for_crawler(crawler), command=f"scrapy crawl {spider_name}")
        pipeline.crawler = crawler
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        if self.ctx.crawl_id is None:
            spider = getattr(self.crawler, "spider", None)
            args = {"spider": getattr(spider, "name", None), "db": self.ctx.db_path}
            self.ctx.crawl_id = self.ctx.call(lambda a: a.start_crawl(self.command, args))
            self.own_crawl = True

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RawPage | Review):
            self.ctx.buffer(item)
        return item

    def close_spider(self) -> None:
        self.ctx.drain()
        crawl_id = self.ctx.crawl_id
        if crawl_id is not None and not self.own_crawl:
            counts = crawl_counts(self.ctx)
            self.ctx.call(lambda a: a.record_crawl_counts(crawl_id, **counts))
            self.ctx.close()

    def spider_closed(self, spider: Any = None, reason: str = "finished") -> None:
        """Our own crawls row is finished once Scrapy knows why the crawl ended."""
        if not self.own_crawl or self.ctx.crawl_id is None:
            return
        stats = self.crawler.stats if self.crawler is not None else None
        get = stats.get_value if stats is not None else (lambda key, default=0: default)
        errors = int(get("log_count/ERROR", 0) or 0)
        if reason in _INTERRUPTED_REASONS:
            outcome = "interrupted"
        elif errors or self.ctx.count(REVIEWS_REJECTED):
            outcome = "partial"
        else:
            outcome = "ok" if reason == "finished" else reason
        crawl_id = self.ctx.crawl_id
        requests = int(get("downloader/request_count", 0) or 0)
        try:
            self.ctx.drain()
            counts = crawl_counts(self.ctx)
            self.ctx.call(
                lambda a: a.finish_crawl(
                    crawl_id,
                    outcome,
                    requests=requests,
                    errors=errors,
                    finish_reason=reason,
                    **counts,
                )
            )
        finally:
            self.ctx.close()
