"""Step 3 of 4: drop a review this run has already passed on in exactly the same form, seen at
the same moment (a page that lists a review twice, or the same capture written twice).

Such a repeat is counted as `hoard/reviews_duplicate` and as unchanged, never lost. A review seen
again at another moment (a title's main page, then its reviews tab; another crawl's capture of
the same page) goes on to the store, which keeps when it was seen: so the archive is the same
whatever order captures reach the writer in. This step does not version: whether a
review is new, edited (a new `archive.hashing.content_hash`: text + rating) or unchanged is decided
by the store, inside its transaction, against what the archive holds.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from reviewhoard.items import Review
from reviewhoard.pipelines.context import (
    REVIEWS_DUPLICATE,
    REVIEWS_UNCHANGED,
    ContextPipeline,
    Dropped,
    PipelineContext,
)

_FIELDS = tuple(f.name for f in fields(Review))


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a field's value (lists and dicts become tuples), so a review's
    whole form is hashed without serializing it: several times cheaper than a JSON dump."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


class DropRepeatsPipeline(ContextPipeline):
    """Drops exact repeats of a review within one run; passes every distinct sighting on."""

    def __init__(self, ctx: PipelineContext) -> None:
        super().__init__(ctx)
        self.seen: dict[tuple[str, str], int] = {}

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Review):
            return item
        key = (item.site, item.review_id)
        form = hash((self.ctx.page_fetched_at, *(_frozen(getattr(item, name)) for name in _FIELDS)))
        if self.seen.get(key) == form:
            self.ctx.inc(REVIEWS_DUPLICATE)
            self.ctx.inc(REVIEWS_UNCHANGED)
            raise Dropped(f"review {item.site}/{item.review_id} already stored in this run")
        self.seen[key] = form
        return item
