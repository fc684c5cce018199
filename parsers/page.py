"""What a parser returns for one page."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewhoard.items import Review


@dataclass(slots=True)
class ParsedPage:
    """The reviews one page holds, in page order, and where its feed goes next.

    `block_count` is the number of review blocks the page carried (equal to len(reviews) on a
    page the parser read whole); a feed page with none is how a spider notices the end of a feed,
    or a layout change when the page should have had some.
    """

    reviews: list[Review] = field(default_factory=list)
    next_url: str | None = None
    """Absolute URL of the feed's next page, or None on the last page."""
    block_count: int = 0
    kind: str = "unknown"
    """What sort of page this was, in the parser's words ("reviews_tab", "title_main", ...)."""
    past_end: bool = False
    """An empty page that is how the site says a feed has ended (a page past the last one, a
    cursor with nothing more): the end of the feed, not a layout change."""


@dataclass(slots=True, frozen=True)
class TextCompletion:
    """The whole text of a review that a list page showed cut (Letterboxd's "more").

    Not a review on its own: the archive stores `text` as the completion of the cut text it
    holds (or will hold) for (`site`, `review_id`), never as an edit.
    """

    site: str
    review_id: str
    text: str
    """The whole review, clean."""
