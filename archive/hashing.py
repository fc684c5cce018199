"""What makes a new version of a review: its text and its rating, nothing else."""

from __future__ import annotations

import hashlib
import marshal

from reviewhoard.items import Review


def rating_key(rating: float | int | None) -> str:
    """The rating as hashed: `8` and `8.0` are the same score; no rating is the empty string."""
    if rating is None:
        return ""
    value = float(rating)
    return str(int(value)) if value.is_integer() else repr(value)


def hash_text_rating(text: str, rating: float | int | None) -> str:
    """sha256 (hex) over the text and the rating, separated so no pair can collide with another."""
    digest = hashlib.sha256(text.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(rating_key(rating).encode("ascii"))
    return digest.hexdigest()


def content_hash(review: Review) -> str:
    """The review's content hash over (text, rating): a different hash is a new version.

    Layout-only differences (sub-scores or reactions, tags, helpful votes, author renames) do not
    change it, so re-reading an old capture in a new layout never looks like an edit.
    """
    return hash_text_rating(review.text, review.rating)


def body_sha256(body: bytes) -> str:
    """sha256 (hex) of a raw page body: how `pages` stores each distinct body once."""
    return hashlib.sha256(body).hexdigest()


def _observation_fields(review: Review) -> bytes:
    """Every field the page gave besides the text, as the observation hash takes them."""
    progress = review.progress
    fields = (
        review.site,
        review.review_id,
        review.url,
        review.subject.type,
        review.subject.id,
        review.subject.title,
        review.subject.url,
        review.author.name,
        review.author.url,
        review.published_at,
        rating_key(review.rating),
        rating_key(review.rating_scale),
        review.recommendation,
        tuple(review.tags),
        review.is_spoiler,
        review.is_preliminary,
        None if progress is None else (progress.seen, progress.total, progress.unit),
        None if review.reactions is None else sorted(review.reactions.items()),
        review.helpful_count,
        None if review.sub_scores is None else sorted(review.sub_scores.items()),
        sorted((k, repr(v)) for k, v in review.extra.items()),
    )
    # marshal format 2 (no back-references, so equal values give equal bytes): a third of the
    # time repr() took. The bytes may differ across Python versions; the observation hash is
    # only the store's shortcut for "unchanged", so a review whose hash no longer matches is
    # compared field by field once and its hash rewritten.
    return marshal.dumps(fields, 2)


def observation_hash(review: Review) -> str:
    """sha256 (hex) of everything the page said about the review (every contract field and the
    extras): equal means "seen again exactly as before", the store's shortcut for unchanged."""
    return review_digests(review)[1]


def review_digests(review: Review) -> tuple[str, str]:
    """(`content_hash`, `observation_hash`) of the review, its text encoded and hashed once:
    both digests start with the text, so one sha256 state of it is copied for each."""
    text = hashlib.sha256(review.text.encode("utf-8"))
    text.update(b"\x00")
    content = text.copy()
    content.update(rating_key(review.rating).encode("ascii"))
    text.update(_observation_fields(review))
    return content.hexdigest(), text.hexdigest()
