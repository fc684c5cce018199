"""The review record: what every parser yields, what `hoard extract` prints, what the archive keeps.

One class, `Review`, with small value classes for its nested parts. Every site maps onto these
fields; a field a site does not have is `None` (never missing, never ""). `Review.to_dict()` gives
the JSON shape of the contract (the same keys in the same order for every site), and
`Review.from_dict()` reads it back.

Scrapy accepts dataclass instances as items (via itemadapter), so spiders yield `Review` directly.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from reviewhoard.archive.packing import PackedBody

Recommendation = Literal["recommended", "mixed_feelings", "not_recommended"]
ProgressUnit = Literal["episodes", "chapters", "pages", "hours"]

RECOMMENDATIONS: tuple[str, ...] = ("recommended", "mixed_feelings", "not_recommended")


@dataclass(slots=True, frozen=True)
class Subject:
    """What is reviewed: a title, a film, a book, a game, a company."""

    type: str
    """Kind of thing, one of its site's `subject_types` ("film", "book", "game", "company"...)."""
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
    """Lowercase, stable site key (`sites/<key>/`): "letterboxd", "steam", ..."""
    review_id: str
    """The site's own id for the review (MAL: the N of `reviews.php?id=N`), as a string."""
    url: str | None
    """Canonical URL of the review itself, or None where the review has no address of its own
    (a Goodreads reviewer who restricts their reviews) (Steam: `https://steamcommunity.com/profiles/ID/
    recommended/APP/`)."""
    subject: Subject
    """What is reviewed."""
    author: Author
    """Who wrote it."""
    published_at: str | None
    """ISO 8601 date ("2008-08-24"), with a time ("2008-08-24T04:12:00") only when the page gives
    one; never with an invented time zone. None only where the page gives no readable date
    (schema.org data)."""
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
    enjoyment), or None."""
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
    """A raw HTTP response as the archive keeps it (the `pages` table), so it can be rebuilt
    offline: the archive's writer makes one from each capture and links the capture's reviews to
    it."""

    url: str
    """The URL that was requested."""
    final_url: str
    """The URL that answered, after redirects."""
    status: int
    """HTTP status code."""
    headers: dict[str, str]
    """Response headers (names lowercased; repeated headers joined with ", ")."""
    body: bytes = field(repr=False)
    """The body as received (decompressed transfer encoding, not re-encoded)."""
    fetched_at: str
    """When it was fetched, ISO 8601 UTC with seconds ("2026-11-21T05:00:00Z")."""
    site: str
    """The site key of the parser that read it."""
    parser_version: str
    """The version of that parser (`PARSER_VERSION`), so `hoard reparse` knows what is stale."""
    packed: PackedBody | None = field(default=None, repr=False, compare=False)
    """The body already hashed and compressed (`archive.packing`), when a parse worker did it;
    None: the writer does it."""


def utc_now() -> str:
    """Now, ISO 8601 UTC with microseconds ("2026-11-21T05:00:00.123456Z"): the one clock of
    every timestamp reviewhoard writes."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Capture:
    """What one fetch (or one saved page) yields: the one thing that crosses from fetching to the
    archive's writer, whoever produced it (a crawl, `hoard import`, `hoard reparse`, a WARC file,
    a worker on another machine).

    The response as received, the feed it belongs to, the parser that read it and its reviews, or
    why the parser refused it. `to_bytes()`/`from_bytes()` turn it into bytes and back without
    loss, so it can travel through a queue.
    """

    url: str
    """The canonical URL that was asked for (the site's own address, not a mirror's)."""
    final_url: str
    """The URL that answered, after redirects (a mirror's or replay's address when one was used)."""
    status: int
    """HTTP status code."""
    headers: dict[str, str]
    """Response headers (names lowercased; repeated headers joined with ", ")."""
    body: bytes = field(repr=False)
    """The body as received (transfer encoding undone, nothing re-encoded). Left out of the
    repr: a page's bytes never go to a log or stderr."""
    fetched_at: str
    """When it was fetched, ISO 8601 UTC ("2026-11-21T05:00:00Z")."""
    site: str
    """The key of the site whose parser read it."""
    parser_version: str
    """That parser's `PARSER_VERSION`, so `hoard reparse` knows what is stale."""
    feed: str | None = None
    """The key of the feed the page belongs to (`app:620`), or None (an imported page)."""
    page: int | None = None
    """The page's number in its feed (1 = the first), or None."""
    reviews: list[Review] = field(default_factory=list, repr=False)
    """The reviews the parser read from it, in page order."""
    refused: str | None = None
    """Why the parser could not read it (one sentence), or None when it read it whole."""
    completions: list[Any] = field(default_factory=list)
    """`parsers.page.TextCompletion`s: whole texts of reviews a list page showed cut."""
    packed: PackedBody | None = field(default=None, repr=False, compare=False)
    """The body hashed and compressed by a parse worker (`hoard import`), or None. Derived from
    `body` alone, so `to_bytes()` leaves it out and nothing is lost."""

    def raw_page(self) -> RawPage:
        """The response as the `pages` table keeps it."""
        return RawPage(
            url=self.url,
            final_url=self.final_url,
            status=self.status,
            headers=self.headers,
            body=self.body,
            fetched_at=self.fetched_at,
            site=self.site,
            parser_version=self.parser_version,
            packed=self.packed,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (the body in base64)."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status": self.status,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii"),
            "fetched_at": self.fetched_at,
            "site": self.site,
            "parser_version": self.parser_version,
            "feed": self.feed,
            "page": self.page,
            "reviews": [r.to_dict() for r in self.reviews],
            "refused": self.refused,
            "completions": [asdict(c) for c in self.completions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Capture:
        """The capture `to_dict()` described."""
        from reviewhoard.parsers.page import TextCompletion

        return cls(
            url=data["url"],
            final_url=data["final_url"],
            status=int(data["status"]),
            headers=dict(data["headers"]),
            body=base64.b64decode(data["body"]),
            fetched_at=data["fetched_at"],
            site=data["site"],
            parser_version=data["parser_version"],
            feed=data.get("feed"),
            page=data.get("page"),
            reviews=[Review.from_dict(r) for r in data.get("reviews", [])],
            refused=data.get("refused"),
            completions=[TextCompletion(**c) for c in data.get("completions", [])],
        )

    def to_bytes(self) -> bytes:
        """The capture as UTF-8 JSON bytes, for a queue or a file."""
        return json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Capture:
        """The capture `to_bytes()` wrote."""
        return cls.from_dict(json.loads(data))


@dataclass(slots=True)
class FeedWalked:
    """A feed was walked to its end, every page fetched at its own address and read whole: what
    the writer needs to mark the reviews of its subject that were not seen as gone (`gone_at`)."""

    site: str
    feed: str
    """The feed's key (`app:620`)."""
    subject_type: str
    subject_id: str
    seen_ids: list[str]
    """Every review id its pages showed."""
    at: str = field(default_factory=utc_now)
    """When its last page was read."""

    def to_bytes(self) -> bytes:
        """As UTF-8 JSON bytes, for a queue or a file."""
        return json.dumps(asdict(self), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> FeedWalked:
        """The event `to_bytes()` wrote."""
        return cls(**json.loads(data))
