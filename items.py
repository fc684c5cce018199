"""The review record: what every parser yields, what `hoard extract` prints, what the archive keeps.

One class, `Review`, with small value classes for its nested parts. Every site maps onto these
fields; a field a site does not have is `None` (never missing, never ""). `Review.to_dict()` gives
the JSON shape of the contract (the same keys in the same order for every site), and
`Review.from_dict()` reads it back.

Scrapy accepts dataclass instances as items (via itemadapter), so spiders yield `Review` directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

SubjectType = Literal["anime", "manga", "film", "book", "game", "company"]
Recommendation = Literal["recommended", "mixed_feelings", "not_recommended"]
ProgressUnit = Literal["episodes", "chapters", "pages", "hours"]

RECOMMENDATIONS: tuple[str, ...] = ("recommended", "mixed_feelings", "not_recommended")


@dataclass(slots=True, frozen=True)
class Subject:
    """What is reviewed: a title, a film, a book, a game, a company."""

    type: str
    """Kind of thing: "anime", "manga", "film", "book", "game" or "company"."""
    id: str
    """The site's own id of the subject, as a string (MAL: "1" for Cowboy Bebop)."""
    title: str | None = None
    """The subject's title as the page shows it, or None where the page does not name it."""
    url: str | None = None
    """Canonical URL of the subject's page on the site, or None."""


@dataclass(slots=True, frozen=True)
class Author:
    """Who wrote the review. `name` can change (renames); the archive keeps the old names."""

    name: str
    """The author's display name on the site at the time of the page."""
    url: str | None = None
    """The author's profile URL, or None."""


@dataclass(slots=True, frozen=True)
class Progress:
    """How far the reviewer got through the work when writing."""

    seen: int | None
    """Units seen or read (episodes, chapters...), or None if the site does not say."""
    total: int | None
    """Units in the whole work, or None when unknown (an airing show shows "?")."""
    unit: str
    """What is counted: "episodes" or "chapters" (other sites: "pages", "hours")."""


@dataclass(slots=True)
class Review:
    """One review as published on one site, cleaned of page furniture.

    Field order here is the order of the JSON keys `to_dict()` produces.
    """

    site: str
    """Lowercase, stable site key: "myanimelist", "letterboxd", "goodreads", "trustpilot",
    "steam"."""
    review_id: str
    """The site's own id for the review (MAL: the N of `reviews.php?id=N`), as a string."""
    url: str
    """Canonical URL of the review itself (MAL: `https://myanimelist.net/reviews.php?id=N`)."""
    subject: Subject
    """What is reviewed."""
    author: Author
    """Who wrote it."""
    published_at: str
    """ISO 8601 date ("2008-08-24"), with a time ("2008-08-24T04:12:00") only when the page gives
    one; never with an invented time zone."""
    text: str
    """The whole review, clean: paragraphs separated by one blank line, no page furniture."""
    rating: float | int | None = None
    """The reviewer's own score as shown (MAL: 1-10), or None when the review has none."""
    rating_scale: float | int | None = None
    """The best possible `rating` on this site (MAL: 10, Letterboxd: 5); None without a rating."""
    recommendation: str | None = None
    """The reviewer's verdict where the site has one: "recommended", "mixed_feelings" or
    "not_recommended"; None otherwise."""
    tags: list[str] = field(default_factory=list)
    """The review's own tags as lowercase slugs with "_" ("well_written", "preliminary"), in page
    order; empty when the site or layout has none."""
    is_spoiler: bool | None = None
    """True when marked as containing spoilers, False when the layout could mark it but did not,
    None when the layout has no such mark."""
    is_preliminary: bool = False
    """True when written before finishing the work (MAL "Preliminary")."""
    progress: Progress | None = None
    """How far the reviewer got, or None when the page does not say."""
    reactions: dict[str, int] | None = None
    """Reader reactions as counts, by lowercase key (MAL: all seven of nice, love_it, funny,
    confusing, informative, well_written, creative), or None where the layout has none."""
    helpful_count: int | None = None
    """How many readers found the review helpful (old MAL layout), or None."""
    sub_scores: dict[str, int | float] | None = None
    """Scores per aspect with lowercase keys (old MAL: overall, story, animation, sound, character,
    enjoyment; manga: art instead of animation and sound), or None."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields a parser adds beyond the contract (e.g. `source_url`), emitted after the contract's
    fields; never a contract field's name."""

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON object: every contract field present, nested parts as objects."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Subject | Author | Progress):
                value = asdict(value)
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        """Build a Review from the contract's JSON object; unknown keys go to `extra`."""
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        kwargs["subject"] = Subject(**data["subject"])
        kwargs["author"] = Author(**data["author"])
        if data.get("progress") is not None:
            kwargs["progress"] = Progress(**data["progress"])
        kwargs["tags"] = list(data.get("tags") or [])
        kwargs["extra"] = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs)


CONTRACT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Review) if f.name != "extra")
"""The contract's field names, in JSON key order."""


@dataclass(slots=True)
class RawPage:
    """A raw HTTP response that reached a parser, kept so the archive can be rebuilt offline.

    Spiders yield one before the reviews parsed from it; the store pipeline writes it to `pages`
    once per distinct body and links the reviews of the same response to it by `url`/`sha256`.
    """

    url: str
    """The URL that was requested."""
    final_url: str
    """The URL that answered, after redirects."""
    status: int
    """HTTP status code."""
    headers: dict[str, str]
    """Response headers (names lowercased; repeated headers joined with ", ")."""
    body: bytes
    """The body as received (decompressed transfer encoding, not re-encoded)."""
    fetched_at: str
    """When it was fetched, ISO 8601 UTC with seconds ("2026-11-21T05:00:00Z")."""
    site: str
    """The site key of the parser that read it."""
    parser_version: str
    """The version of that parser (`PARSER_VERSION`), so `hoard reparse` knows what is stale."""
