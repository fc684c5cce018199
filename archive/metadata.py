"""Datasette metadata for an archive: title, table and column descriptions, search, facets and
canned queries. `hoard serve` writes it next to nothing: it is passed to Datasette as a file."""

from __future__ import annotations

from typing import Any

TITLE = "reviewhoard archive"

TABLES: dict[str, dict[str, Any]] = {
    "reviews": {
        "description": (
            "Every archived review in its current state, one row per (site, review_id). A field "
            "a newer page does not carry (a site's redesign dropped sub-scores or helpful "
            "votes, say) keeps its last known value. "
            "Search covers the text, the subject title and the author name."
        ),
        "fts_table": "reviews_fts",
        "facets": ["site", "recommendation", "rating"],
        "sort_desc": "published_at",
        "columns": {
            "site": "Site key (as `hoard crawl --help` lists them).",
            "review_id": "The site's own id of the review.",
            "url": "Canonical URL of the review.",
            "subject_type": "What kind of thing is reviewed (film, book, game, company...).",
            "subject_id": "The site's id of the reviewed title.",
            "subject_title": "Title of the reviewed work, as last seen.",
            "author_id": "The author's identity in `authors` (kept through renames).",
            "author_name": "The author's current name (renames: see authors.former_names).",
            "published_at": "When the review was published (ISO 8601; date, time if shown).",
            "rating": "The reviewer's score as shown (MAL: 1-10). Part of a version.",
            "rating_scale": "Best possible rating on the site (MAL: 10).",
            "recommendation": "recommended / mixed_feelings / not_recommended, or empty.",
            "tags": "The review's own tags (JSON list of slugs); kept when a layout has none.",
            "is_spoiler": "1 when marked as containing spoilers; empty when the layout cannot say.",
            "is_preliminary": "1 when written before finishing the work.",
            "progress_seen": "Episodes or chapters the reviewer had seen.",
            "progress_total": "Episodes or chapters of the whole work.",
            "progress_unit": "episodes or chapters.",
            "reactions": "Latest reader reaction counts (JSON); history in reaction_counts.",
            "helpful_count": "Latest 'found this helpful' count (old MAL layout).",
            "sub_scores": "Scores per aspect (old MAL layout, JSON).",
            "extra": "Fields a parser added beyond the contract (JSON).",
            "text": "The current text of the review, clean.",
            "content_hash": "sha256 of (text, rating): a different hash is a new version.",
            "version_count": "How many distinct (text, rating) states were seen.",
            "first_seen_at": "When the archive first saw the review (UTC).",
            "last_seen_at": "When a page last showed it (UTC).",
            "gone_at": "When a full walk of its title no longer found it; empty while present.",
            "page_id": "The stored raw page it was last seen on.",
        },
    },
    "review_versions": {
        "description": (
            "One row per distinct (text, rating) state of a review: an edit adds a row, layout "
            "changes and reaction counts never do."
        ),
        "facets": ["site"],
        "columns": {
            "content_hash": "sha256 of (text, rating).",
            "text": (
                "The review's text in this version; empty for the current version, whose text "
                "is reviews.text (stored once). The edited_reviews view shows both."
            ),
            "rating": "The rating in this version.",
            "first_seen_at": "When this state was first seen (UTC).",
            "last_seen_at": "When this state was last seen (UTC).",
            "page_id": "The raw page this state was first read from.",
            "crawl_id": "The run that first stored it.",
        },
    },
    "reaction_counts": {
        "description": (
            "Change-only history of reaction and helpful counts: a row when they differ from "
            "the review's previous counts."
        ),
        "columns": {
            "observed_at": "When the counts were seen (UTC).",
            "reactions": "Reaction counts (JSON), or empty where the layout has none.",
            "helpful_count": "'Found this helpful' count, or empty.",
        },
    },
    "subjects": {
        "description": "The reviewed works (titles, films, books...), one row per site id.",
    },
    "authors": {
        "description": (
            "Review authors. A rename keeps the row (and id) and adds the old name to former_names."
        ),
        "columns": {
            "name": "Current name.",
            "former_names": "Earlier names of this author (JSON list), oldest first.",
            "renamed_at": "When the last rename was seen.",
        },
    },
    "tags": {"description": "Tag slugs per site (well_written, spoiler, preliminary, ...)."},
    "review_tags": {"description": "Which tags each review carries now, in page order."},
    "pages": {
        "description": (
            "Raw responses, stored once per distinct body (sha256), compressed: the archive can "
            "be re-read offline with `hoard reparse`."
        ),
        "hidden": False,
        "columns": {
            "sha256": "sha256 of the uncompressed body.",
            "body": "The body, compressed as `compression` says (zstd or gzip).",
            "body_size": "Size of the uncompressed body in bytes.",
            "fetched_at": "First fetch of this body (UTC).",
            "last_fetched_at": "Latest fetch of this body (UTC).",
            "fetch_count": "How many fetches returned this very body.",
            "parser_version": "Version of the parser that last read it.",
        },
    },
    "crawls": {
        "description": "One row per run (crawl, update, import, reparse): outcome and counts.",
        "facets": ["outcome", "command"],
        "sort_desc": "id",
        "columns": {
            "outcome": "running, ok, partial, alarm, interrupted or failed.",
            "alarms": "Data-quality alarms raised by the run (JSON).",
            "finish_reason": "Why the run ended (Scrapy's finish reason).",
        },
    },
    "rejects": {
        "description": (
            "Items that failed validation, with the reason, the page and the raw item: nothing "
            "is dropped silently."
        ),
        "facets": ["reason"],
    },
}

_TITLE_MATCH = "(r.subject_id = :title OR r.subject_title LIKE '%' || :title || '%')"

QUERIES: dict[str, dict[str, Any]] = {
    "reviews_of_title": {
        "title": "Reviews of a title",
        "description": "Every review of a title, newest first (title text or the site's id).",
        "sql": (
            "SELECT r.site, r.review_id, r.subject_type, r.subject_id, r.subject_title, "
            "r.author_name, r.published_at, r.rating, r.recommendation, r.version_count, "
            "r.gone_at, r.url, "
            "substr(r.text, 1, 300) AS excerpt FROM reviews r WHERE "
            + _TITLE_MATCH
            + " ORDER BY r.published_at DESC"
        ),
    },
    "newest_reviews": {
        "title": "Newest reviews",
        "description": "The 100 most recently published reviews.",
        "sql": (
            "SELECT site, review_id, subject_title, author_name, published_at, rating, "
            "recommendation, url, substr(text, 1, 300) AS excerpt FROM reviews "
            "ORDER BY published_at DESC LIMIT 100"
        ),
    },
    "edited_reviews": {
        "title": "Edited reviews with their versions",
        "description": "Reviews with more than one (text, rating) state, each version a row.",
        "sql": (
            "SELECT r.site, r.review_id, r.subject_title, r.author_name, r.version_count, "
            "v.id AS version_id, v.rating, v.first_seen_at, v.last_seen_at, "
            "v.content_hash = r.content_hash AS is_current, "
            "coalesce(v.text, r.text) AS text FROM reviews r "
            "JOIN review_versions v ON v.site = r.site AND v.review_id = r.review_id "
            "WHERE r.version_count > 1 ORDER BY r.site, r.review_id, v.first_seen_at"
        ),
    },
    "rating_histogram": {
        "title": "A title's rating histogram",
        "description": "How many reviews gave each rating (title text or the site's id).",
        "sql": (
            "SELECT r.rating, count(*) AS reviews FROM reviews r WHERE r.rating IS NOT NULL "
            "AND " + _TITLE_MATCH + " GROUP BY r.rating ORDER BY r.rating"
        ),
    },
}


def datasette_metadata(database: str) -> dict[str, Any]:
    """Datasette's metadata for the archive served as database `database` (the file's stem)."""
    return {
        "title": TITLE,
        "description": (
            "Community reviews scraped and archived by reviewhoard: current reviews, every "
            "edit, reaction history, raw pages."
        ),
        "databases": {
            database: {
                "description": "The archive: start with `reviews`, or a canned query below.",
                "tables": {
                    **TABLES,
                    "reviews_fts": {"hidden": True},
                    "_sqlite_migrations": {"hidden": True},
                },
                "queries": QUERIES,
            }
        },
    }
