"""The names of the archive's tables: what readers list and count without loading the
migrations (and sqlite-utils) that make them."""

from __future__ import annotations

__all__ = ["TABLES"]

TABLES: tuple[str, ...] = (
    "crawls",
    "pages",
    "subjects",
    "authors",
    "reviews",
    "review_versions",
    "reaction_counts",
    "tags",
    "review_tags",
    "rejects",
    "text_completions",
    "extra_history",
)
"""The archive's tables (besides `reviews_fts` and SQLite's own), in dependency order."""
