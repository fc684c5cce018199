"""The crawl's item pipelines without a Scrapy engine: what `hoard import` and `hoard reparse` run.

The classes and their order come from `settings.ITEM_PIPELINES`, so an imported page goes through
exactly what a fetched one does.
"""

from __future__ import annotations

import importlib
from typing import Any

from scrapy.exceptions import DropItem

from items import RawPage
from parsers.page import ParsedPage
from pipelines.context import DEFAULT_BATCH_SIZE, PipelineContext
from pipelines.store import CrawlCounts, crawl_counts


def pipeline_classes() -> list[type]:
    """The ITEM_PIPELINES classes of the project settings, in the order Scrapy runs them."""
    import settings

    ordered = sorted(settings.ITEM_PIPELINES.items(), key=lambda kv: kv[1])
    out: list[type] = []
    for path, _order in ordered:
        module, _, name = path.rpartition(".")
        out.append(getattr(importlib.import_module(module), name))
    return out


class PipelineChain:
    """Runs items through the project's pipelines in order; `close()` flushes and finishes.

    `crawl_id`: record items against this `crawls` row (the caller finishes it). Without one, the
    chain opens a row for `command` and finishes it at `close()`.
    """

    def __init__(
        self,
        db_path: str,
        *,
        command: str,
        args: dict[str, Any] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        reread: bool = False,
    ) -> None:
        self.ctx = PipelineContext(db_path, batch_size=batch_size)
        self.ctx.reread = reread
        self.ctx.crawl_id = self.ctx.archive.start_crawl(command, args or {})
        self.pipelines = [cls(self.ctx) for cls in pipeline_classes()]
        self.dropped = 0

    @property
    def crawl_id(self) -> int:
        assert self.ctx.crawl_id is not None
        return self.ctx.crawl_id

    def process(self, item: Any) -> Any | None:
        """One item through every pipeline; None when a pipeline dropped it (already counted)."""
        for pipeline in self.pipelines:
            try:
                item = pipeline.process_item(item)
            except DropItem:
                self.dropped += 1
                return None
        return item

    def counts(self) -> CrawlCounts:
        """The run's counts so far (`ctx.drain()` first for the store's)."""
        return crawl_counts(self.ctx)

    def close(
        self, outcome: str | None = None, *, errors: int = 0, reason: str = "finished"
    ) -> None:
        """Flush, then finish the crawls row (`ok`, or `partial` with errors or rejects)."""
        try:
            self.ctx.drain()
            counts = self.counts()
            if outcome is None:
                outcome = "partial" if errors or counts["reviews_rejected"] else "ok"
            self.ctx.archive.finish_crawl(
                self.crawl_id, outcome, errors=errors, finish_reason=reason, **counts
            )
        finally:
            self.ctx.close()


def archive_parsed(chain: PipelineChain, raw: RawPage, parsed: ParsedPage) -> None:
    """A fetched (or saved) response through the pipelines: the raw page first, then each review
    parsed from it, the order a spider yields them."""
    chain.process(raw)
    for review in parsed.reviews:
        chain.process(review)
