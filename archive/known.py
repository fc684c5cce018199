"""What update mode asks ("is every review of this page archived and unchanged?"), answered
from digests read once at the start of a run, so a spider never opens the archive per page.

The runner reads `KnownReviews.read(db_path, site)` once and hands it to the spider; a worker on
another machine can be handed one backed by something else (any callable taking the page's
reviews). It answers for the archive as it was when the run started.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reviewhoard.archive.connection import connect
from reviewhoard.archive.hashing import content_hash
from reviewhoard.items import Review
from reviewhoard.pipelines.normalize import normalize_review


class KnownReviews:
    """The archive's content hash of each of a site's reviews: {review_id: hash}."""

    def __init__(self, digests: dict[str, str], cut: dict[str, str] | None = None) -> None:
        self.digests = digests
        self.cut = cut or {}
        """The hash of the cut form a list page shows of a review archived whole."""

    @classmethod
    def read(
        cls, db_path: str | Path, site: str, review_ids: Iterable[str] | None = None
    ) -> KnownReviews:
        """Read once, read-only (works beside a writer); empty when there is no archive yet.
        `review_ids`: only those reviews (what a writer publishes after each commit)."""
        if not Path(db_path).exists():
            return cls({})
        conn = connect(db_path, readonly=True)
        try:
            has_reviews = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reviews'"
            ).fetchone()
            if not has_reviews:
                return cls({})
            query = (
                "SELECT review_id, content_hash, json_extract(extra, '$.cut_hash') "
                "FROM reviews WHERE site = ?"
            )
            if review_ids is None:
                rows: Iterable[tuple[str, str, str | None]] = conn.execute(query, (site,))
            else:
                wanted = sorted(set(review_ids))
                found: list[tuple[str, str, str | None]] = []
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    marks = ", ".join("?" * len(chunk))
                    sql = f"{query} AND review_id IN ({marks})"
                    found += conn.execute(sql, (site, *chunk)).fetchall()
                rows = found
            digests: dict[str, str] = {}
            cut: dict[str, str] = {}
            for review_id, digest, cut_digest in rows:
                digests[review_id] = digest
                if cut_digest:
                    cut[review_id] = cut_digest
            return cls(digests, cut)
        finally:
            conn.close()

    def _known(self, review: Review) -> bool:
        digest = content_hash(normalize_review(review))
        return digest in (self.digests.get(review.review_id), self.cut.get(review.review_id))

    def __call__(self, reviews: Iterable[Review]) -> bool:
        """True when every review is archived with the same content hash, as the writer will
        store it (normalized first); False for an empty page or a malformed review."""
        reviews = list(reviews)
        if not reviews:
            return False
        try:
            return all(self._known(r) for r in reviews)
        except (AttributeError, TypeError, ValueError):
            return False  # a malformed review: the writer rejects it; keep paging
