"""Step 2 of 4: check a review against the contract; a failure is recorded, never lost.

A review that fails goes to the `rejects` table with the reason, its page and the raw item, is
counted as `hoard/reviews_rejected`, and only then dropped.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from reviewhoard.archive.store import Reject
from reviewhoard.items import CONTRACT_FIELDS, RECOMMENDATIONS, RawPage, Review
from reviewhoard.pipelines.context import REVIEWS_REJECTED, ContextPipeline, Dropped

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
"""ISO 8601: a date, with a time only when the page gives one, and a zone only when it says."""
_SITE = re.compile(r"^[a-z][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9_]+$")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def problems(review: Review) -> list[str]:
    """What is wrong with `review` under the contract; empty when it may be stored."""
    out: list[str] = []
    if not isinstance(review.site, str) or not _SITE.match(review.site):
        out.append(f"site {review.site!r} is not a lowercase site key")
    if not isinstance(review.review_id, str) or not review.review_id:
        out.append("review_id is empty")
    if review.url is not None and (
        not isinstance(review.url, str) or not review.url.startswith(("http://", "https://"))
    ):
        out.append(f"url {review.url!r} is not an http(s) URL")
    if not review.subject.type or not review.subject.id:
        out.append("subject type or id is empty")
    if not isinstance(review.author.name, str) or not review.author.name:
        out.append("author name is empty")
    if review.published_at is not None and (
        not isinstance(review.published_at, str) or not _DATE.match(review.published_at)
    ):
        out.append(f"published_at {review.published_at!r} is not an ISO 8601 date")
    if not isinstance(review.text, str) or not review.text.strip():
        out.append("text is empty")
    if review.rating is not None:
        if isinstance(review.rating, bool) or not isinstance(review.rating, int | float):
            out.append(f"rating {review.rating!r} is not a number")
        elif review.rating_scale is None:
            out.append("rating without rating_scale")
        elif not 0 <= review.rating <= review.rating_scale:
            out.append(f"rating {review.rating} outside 0..{review.rating_scale}")
    if review.recommendation is not None and review.recommendation not in RECOMMENDATIONS:
        out.append(f"recommendation {review.recommendation!r} is not one of {RECOMMENDATIONS}")
    if any(not isinstance(t, str) or not _SLUG.match(t) for t in review.tags):
        out.append(f"tags {review.tags!r} are not lowercase slugs")
    if review.reactions is not None and not all(_is_count(v) for v in review.reactions.values()):
        out.append("reactions are not non-negative counts")
    if review.helpful_count is not None and not _is_count(review.helpful_count):
        out.append(f"helpful_count {review.helpful_count!r} is not a count")
    clash = set(review.extra) & set(CONTRACT_FIELDS)
    if clash:
        out.append(f"extra fields reuse contract names {sorted(clash)}")
    if not out:
        out += _site_checks(review)
    return out


def _site_checks(review: Review) -> list[str]:
    """The checks the review's own site declares (a site's fixed set of reactions)."""
    from reviewhoard.sites import all_sites

    site = all_sites().get(review.site)
    return site.check_review(review) if site is not None else []


def raw_item(item: Any) -> dict[str, Any]:
    """The item as a plain dict for the `rejects` table, whatever shape it came in."""
    if isinstance(item, Review):
        try:
            return item.to_dict()
        except Exception:  # a malformed review must still be recorded
            pass
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return {f.name: getattr(item, f.name, None) for f in dataclasses.fields(item)}
    if isinstance(item, dict):
        return dict(item)
    return {"repr": repr(item)}


class ValidatePipeline(ContextPipeline):
    """Reviews that break the contract are recorded in `rejects`, counted, then dropped."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RawPage):
            return item
        if isinstance(item, Review):
            try:
                reasons = problems(item)
            except (AttributeError, TypeError) as exc:
                reasons = [f"malformed review: {exc}"]
        else:
            reasons = [f"not a review item: {type(item).__name__}"]
        if not reasons:
            return item
        reason = "; ".join(reasons)
        self.ctx.buffer(Reject(reason=reason, item=raw_item(item), page_url=self.ctx.page_url))
        self.ctx.inc(REVIEWS_REJECTED)
        raise Dropped(f"rejected (kept in rejects): {reason}")
