"""What update mode asks ("is every review of this page archived and unchanged?"), answered
from digests read once at the start of a run, so a spider never opens the archive per page.

The runner reads `KnownReviews.read(db_path, site)` once and hands it to the spider; a worker on
another machine can be handed one backed by something else (any callable taking the page's
reviews). It answers for the archive as it was when the run started.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from archive.connection import connect
from archive.hashing import content_hash
from items import Review
from pipelines.normalize import normalize_review


class KnownReviews:
    """The archive's content hash of each of a site's reviews: {review_id: hash}."""

    def __init__(self, digests: dict[str, str]) -> None:
        self.digests = digests

    @classmethod
    def read(cls, db_path: str | Path, site: str) -> KnownReviews:
        """Read once, read-only (works beside a writer); empty when there is no archive yet."""
        if not Path(db_path).exists():
            return cls({})
        conn = connect(db_path, readonly=True)
        try:
            has_reviews = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reviews'"
            ).fetchone()
            if not has_reviews:
                return cls({})
            rows = conn.execute(
                "SELECT review_id, content_hash FROM reviews WHERE site = ?", (site,)
            )
            return cls(dict(rows))
        finally:
            conn.close()

    def __call__(self, reviews: Iterable[Review]) -> bool:
        """True when every review is archived with the same content hash, as the writer will
        store it (normalized first); False for an empty page or a malformed review."""
        reviews = list(reviews)
        if not reviews:
            return False
        try:
            return all(
                self.digests.get(r.review_id) == content_hash(normalize_review(r)) for r in reviews
            )
        except (AttributeError, TypeError, ValueError):
            return False  # a malformed review: the writer rejects it; keep paging
