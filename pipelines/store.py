"""Step 4 of 4: queue raw pages and reviews for the archive's batched transactions.

Entries are buffered and written every `HOARD_STORE_BATCH` reviews (at a page boundary, so a page
and its reviews commit together) and when the writer drains: a run killed mid-way loses at most
the unflushed batch and never leaves half an item. Outcomes are counted (`hoard/reviews_new`,
`_updated`, `_unchanged`, `hoard/pages_stored`) once written.
"""

from __future__ import annotations

from typing import Any

from reviewhoard.items import RawPage, Review
from reviewhoard.pipelines.context import ContextPipeline


class StorePipeline(ContextPipeline):
    """Buffers pages and reviews for the next batch write."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RawPage | Review):
            self.ctx.buffer(item)
        return item
