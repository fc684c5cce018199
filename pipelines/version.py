"""Pipeline 3 of 4: version and dedupe.

Drops a review this run has already passed on in exactly the same form (the same review on a
title's main page and on its reviews tab): it is counted as `hoard/reviews_duplicate` and as
unchanged, never lost.
Whether a review is new, edited (a new `archive.hashing.content_hash`: text + rating) or unchanged
is decided by the store, inside its transaction, against what the archive holds.
"""

from __future__ import annotations

import json
from typing import Any

from scrapy.exceptions import DropItem

from items import Review
from pipelines.context import REVIEWS_DUPLICATE, REVIEWS_UNCHANGED, ContextPipeline, PipelineContext


class VersionPipeline(ContextPipeline):
    """Drops exact repeats of a review within one run; passes every distinct form on."""

    def __init__(self, ctx: PipelineContext) -> None:
        super().__init__(ctx)
        self.seen: dict[tuple[str, str], int] = {}

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Review):
            return item
        key = (item.site, item.review_id)
        form = hash(json.dumps(item.to_dict(), sort_keys=True, default=str))
        if self.seen.get(key) == form:
            self.ctx.inc(REVIEWS_DUPLICATE)
            self.ctx.inc(REVIEWS_UNCHANGED)
            raise DropItem(
                f"review {item.site}/{item.review_id} already stored in this run", log_level="DEBUG"
            )
        self.seen[key] = form
        return item
