"""Step 1 of 4: normalize a review's fields to one spelling before it is checked and stored."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from reviewhoard.items import Author, Progress, RawPage, Review, Subject
from reviewhoard.pipelines.context import ContextPipeline

_TAG_SEPARATORS = re.compile(r"[\s\-]+")
UNKNOWN_SUBJECT_TYPE = "unknown"
"""The subject type a review whose record says null is filed under."""


def normalize_tag(tag: str) -> str:
    """`Well-written` -> `well_written`: lowercase slugs with `_`, as the contract says."""
    return _TAG_SEPARATORS.sub("_", tag.strip().lower())


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _strip(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalize_review(review: Review) -> Review:
    """The same review with keys trimmed and lowercased, tags as slugs, 8.0 as 8."""
    # The text stays as the parser cleaned it (no Unicode normalization): its hash is what the
    # crawl's update mode compares with the archive's.
    text = review.text.replace("\r\n", "\n").strip()
    subject = review.subject
    progress = review.progress
    return dataclasses.replace(
        review,
        site=review.site.strip().lower(),
        review_id=str(review.review_id).strip(),
        url=_strip(review.url),
        subject=Subject(
            # A subject of no known kind (schema.org's `itemReviewed` given only as text) is
            # filed as "unknown": the archive files every review under a subject.
            type=(subject.type or UNKNOWN_SUBJECT_TYPE).strip().lower(),
            id=str(subject.id).strip(),
            title=_strip(subject.title),
            url=_strip(subject.url),
        ),
        author=Author(name=review.author.name.strip(), url=_strip(review.author.url)),
        published_at=_strip(review.published_at),
        text=text,
        rating=_number(review.rating),
        rating_scale=_number(review.rating_scale),
        recommendation=_strip(review.recommendation.lower()) if review.recommendation else None,
        tags=list(dict.fromkeys(normalize_tag(t) for t in review.tags if t.strip())),
        progress=None
        if progress is None
        else Progress(progress.seen, progress.total, progress.unit),
        sub_scores=None
        if review.sub_scores is None
        else {k.lower(): _number(v) for k, v in review.sub_scores.items()},
    )


class NormalizePipeline(ContextPipeline):
    """Reviews get one spelling for keys, tags and numbers; raw pages get lowercased headers."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Review):
            try:
                return normalize_review(item)
            except (AttributeError, TypeError, ValueError):
                return item  # malformed: left as it came for validation to reject and record
        if isinstance(item, RawPage):
            item.headers = {k.lower(): v for k, v in item.headers.items()}
        return item
