"""Datasette metadata for an archive: title, table and column descriptions, search, facets,
canned queries and the dashboard (datasette-dashboards). `hoard serve` passes it to Datasette;
`hoard serve --write-metadata FILE` writes it for `datasette archive.db -m FILE`.

Every query and chart works for every site: a title is named by its site, type and id (one id
may name two kinds of title on one site), ratings are read on each review's own scale.
"""

from __future__ import annotations

import copy
from typing import Any

TITLE = "reviewhoard archive"

DASHBOARD = "reviews"
"""The dashboard's slug: `/-/dashboards/reviews`."""

REVIEW_PAGE = "/-/review/{site}/{review_id}"
"""A review's page (the archive's Datasette plugin, `archive.datasette`), review id URL-quoted."""

TABLES: dict[str, dict[str, Any]] = {
    "reviews": {
        "description": (
            "Every archived review in its current state, one row per (site, review_id). A field "
            "a newer page does not carry (a site's redesign dropped sub-scores or helpful "
            "votes, say) keeps its last known value. Search covers the text, the subject title "
            "and the author name; a review id opens the review's page (versions with what "
            "changed, reactions over time, raw page)."
        ),
        "fts_table": "reviews_fts",
        "facets": [
            "site",
            "subject_type",
            "subject_title",
            "rating",
            "recommendation",
            {"array": "tags"},
        ],
        "facet_size": 10,
        "sort_desc": "published_at",
        "columns": {
            "site": "Site key (as `hoard crawl --help` lists them).",
            "review_id": "The site's own id of the review; opens the review's page.",
            "url": "Canonical URL of the review (empty where the site gives none).",
            "subject_type": "What kind of thing is reviewed (film, book, game, company...).",
            "subject_id": "The site's id of the reviewed title (unique with site and type).",
            "subject_title": "Title of the reviewed work, as last seen; lists its reviews.",
            "author_id": "The author's identity in `authors` (kept through renames).",
            "author_name": "The author's current name (renames: see authors.former_names).",
            "published_at": "When the review was published (ISO 8601; date, time if shown).",
            "rating": "The reviewer's score as shown, on the scale in rating_scale. Part of a "
            "version.",
            "rating_scale": "Best possible rating (MAL: 10, Letterboxd: 5); empty if none.",
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
            "text": "The current text of the review, clean (an excerpt here; whole on its page).",
            "content_hash": "sha256 of (text, rating): a different hash is a new version.",
            "version_count": "How many distinct (text, rating) states were seen.",
            "first_seen_at": "When the archive first saw the review (UTC).",
            "last_seen_at": "When a page last showed it (UTC).",
            "gone_at": "When a full walk of its title no longer found it; empty while present.",
            "page_id": "The stored raw page it was last seen on.",
            "observed_hash": "Digest of the last observation as the page gave it (the store's).",
        },
    },
    "review_versions": {
        "description": (
            "One row per distinct (text, rating) state of a review: an edit adds a row, layout "
            "changes and reaction counts never do. The current version's text is kept once, in "
            "reviews.text: review_history shows every version with its own text."
        ),
        "facets": ["site"],
        "columns": {
            "content_hash": "sha256 of (text, rating).",
            "text": (
                "The review's text in this version; empty for the current version, whose text "
                "is reviews.text (stored once). review_history shows both."
            ),
            "rating": "The rating in this version.",
            "first_seen_at": "When this state was first seen (UTC).",
            "last_seen_at": "When this state was last seen (UTC).",
            "page_id": "The raw page this state was first read from.",
            "crawl_id": "The run that first stored it.",
        },
    },
    "review_history": {
        "description": (
            "Every version of every review with its own text, numbered in the order first "
            "seen, beside the text of the version before it (empty for the first). The review "
            "page shows the same as a word diff."
        ),
        "facets": ["site", "is_current"],
        "sort": "site",
        "columns": {
            "version": "1 for the first version seen, then 2, 3...",
            "versions": "How many versions the review has.",
            "is_current": "1 for the version the review shows now.",
            "text": "This version's own text.",
            "previous_text": "The text of the version before it; empty for the first.",
        },
    },
    "edited_reviews": {
        "description": "Reviews with more than one version, each version a row (older view).",
        "hidden": True,
    },
    "reaction_counts": {
        "description": (
            "Change-only history of reaction and helpful counts: a row when they differ from "
            "the review's previous counts. The review page charts them."
        ),
        "facets": ["site"],
        "columns": {
            "observed_at": "When the counts were seen (UTC).",
            "reactions": "Reaction counts (JSON), or empty where the layout has none.",
            "helpful_count": "'Found this helpful' count, or empty.",
        },
    },
    "subjects": {
        "description": "The reviewed works (titles, films, books...), one row per site, type, id.",
        "facets": ["site", "type"],
        "label_column": "title",
    },
    "authors": {
        "description": (
            "Review authors. A rename keeps the row (and id) and adds the old name to former_names."
        ),
        "facets": ["site"],
        "label_column": "name",
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
            "be re-read offline with `hoard reparse`; `/-/raw/ID` shows one as it was served."
        ),
        "facets": ["site", "status"],
        "sort_desc": "last_fetched_at",
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
            "feeds": "Per-feed counts of the run (JSON), which the next run's alarms compare.",
        },
    },
    "rejects": {
        "description": (
            "Items that failed validation, with the reason, the page and the raw item: nothing "
            "is dropped silently."
        ),
        "facets": ["site", "reason"],
    },
    "text_completions": {
        "description": "Whole texts of cut reviews waiting for (or kept after) the cut review.",
    },
}

_URL_QUOTED_ID = (
    "replace(replace(replace(replace(replace(replace(r.review_id, '%', '%25'), '/', '%2F'), "
    "'?', '%3F'), '#', '%23'), ' ', '%20'), '&', '%26')"
)
"""A review id as it goes in a review page's path (schema.org ids are URLs)."""

_SUBJECT_LABEL = (
    "coalesce(s.title, s.subject_id) || ' · ' || s.site || ' ' || s.type || ' ' || s.subject_id"
)
"""How a title is named in the dashboard's title filter: readable, and unique."""

_THE_TITLE = "SELECT :site AS site, :subject_type AS subject_type, :subject_id AS subject_id"
"""The title a canned query asks about: its site, type and id, exactly."""

_CHOSEN_TITLE = f"""
SELECT r.site, r.subject_type, r.subject_id FROM reviews r
LEFT JOIN subjects s ON s.site = r.site AND s.type = r.subject_type
    AND s.subject_id = r.subject_id
WHERE r.rating IS NOT NULL [[AND r.site = :site]] [[AND {_SUBJECT_LABEL} = :title]]
GROUP BY r.site, r.subject_type, r.subject_id
ORDER BY count(*) DESC, r.site, r.subject_type, r.subject_id LIMIT 1
"""
"""The dashboard's title: the one its filter names, else the most rated one (of the site)."""


def _histogram_sql(chosen: str) -> str:
    """Every rating of the title's scale with how many of its reviews gave it (0 where none).

    A site's scale goes up from its step: 0.5 where any of the site's ratings on that scale has
    a half (Letterboxd), else 1 (a 1-10 or 1-5 scale), a tenth of the scale above
    20 points; from 0 where the site has a 0. A rating off that grid (schema.org's 3.7 of 5)
    is listed too. Reviews on several scales (schema.org) give one series per scale.
    """
    return f"""
WITH RECURSIVE chosen AS ({chosen}),
rated AS (
    SELECT r.rating, r.rating_scale FROM reviews r JOIN chosen c ON r.site = c.site
        AND r.subject_type = c.subject_type AND r.subject_id = c.subject_id
    WHERE r.rating IS NOT NULL
),
site_scale AS (
    SELECT r.rating_scale AS scale, min(r.rating) AS lowest,
        CASE WHEN r.rating_scale > 20 THEN r.rating_scale / 10.0
            WHEN max(r.rating != CAST(r.rating AS INTEGER)) THEN 0.5 ELSE 1 END AS step
    FROM reviews r JOIN chosen c ON r.site = c.site
    WHERE r.rating IS NOT NULL AND r.rating_scale IN (SELECT rating_scale FROM rated)
    GROUP BY r.rating_scale
),
series(scale, step, value) AS (
    SELECT scale, step, min(step, lowest) FROM site_scale
    UNION ALL
    SELECT scale, step, value + step FROM series WHERE value + step <= scale
),
points(scale, value) AS (
    SELECT scale, value FROM series UNION SELECT rating_scale, rating FROM rated
)
SELECT c.site, c.subject_type, c.subject_id,
    (SELECT coalesce(s.title, s.subject_id) FROM subjects s WHERE s.site = c.site
        AND s.type = c.subject_type AND s.subject_id = c.subject_id) AS subject_title,
    CASE WHEN p.value = CAST(p.value AS INTEGER) THEN CAST(p.value AS INTEGER)
        ELSE p.value END AS rating,
    p.scale AS rating_scale,
    (SELECT count(*) FROM rated WHERE rating_scale IS p.scale AND rating = p.value) AS reviews
FROM points p, chosen c
ORDER BY p.scale, p.value
"""


def _over_time_sql(chosen: str) -> str:
    """A title's reviews per month of publication with their mean rating (on its scale)."""
    return f"""
WITH chosen AS ({chosen})
SELECT c.site, c.subject_type, c.subject_id,
    (SELECT coalesce(s.title, s.subject_id) FROM subjects s WHERE s.site = c.site
        AND s.type = c.subject_type AND s.subject_id = c.subject_id) AS subject_title,
    substr(r.published_at, 1, 7) || '-01' AS month, count(*) AS reviews,
    round(avg(r.rating), 2) AS mean_rating, min(r.rating) AS lowest, max(r.rating) AS highest,
    r.rating_scale
FROM reviews r JOIN chosen c ON r.site = c.site AND r.subject_type = c.subject_type
    AND r.subject_id = c.subject_id
WHERE r.rating IS NOT NULL AND r.published_at IS NOT NULL
GROUP BY month, r.rating_scale
ORDER BY month
"""


_TITLE_PARAMS = ["site", "subject_type", "subject_id"]

_QUERIES: dict[str, dict[str, Any]] = {
    "search_reviews": {
        "title": "Search reviews",
        "description": (
            "Reviews whose text, title or author name hold every word of q, best match first "
            "(FTS5 rank), each with a snippet where the words are found. Leave site empty for "
            "every site."
        ),
        "params": ["q", "site"],
        "sql": (
            "SELECT r.site, r.subject_title, r.author_name, r.published_at, r.rating, "
            "snippet(reviews_fts, -1, '<mark>', '</mark>', ' … ', 40) AS snippet, "
            "r.review_id, r.subject_type, r.subject_id, r.rating_scale "
            "FROM reviews_fts JOIN reviews r ON r.rowid = reviews_fts.rowid "
            "WHERE reviews_fts MATCH coalesce(nullif(escape_fts(:q), ''), '\"\"') "
            "AND (coalesce(:site, '') = '' OR r.site = :site) "
            "ORDER BY reviews_fts.rank LIMIT 100"
        ),
    },
    "reviews_of_title": {
        "title": "Reviews of a title",
        "description": (
            "Every review of one title, newest first: its site, subject type and the site's "
            "id for it (e.g. steam, game, 620)."
        ),
        "params": _TITLE_PARAMS,
        "sql": (
            "SELECT r.site, r.subject_title, r.author_name, r.published_at, r.rating, "
            "r.recommendation, substr(r.text, 1, 300) AS excerpt, r.review_id, "
            "r.version_count, r.gone_at, r.subject_type, r.subject_id, r.rating_scale "
            "FROM reviews r "
            "WHERE r.site = :site AND r.subject_type = :subject_type "
            "AND r.subject_id = :subject_id ORDER BY r.published_at DESC"
        ),
    },
    "rating_histogram": {
        "title": "A title's rating histogram",
        "description": (
            "How many of one title's reviews gave each rating of the scale, 0 where none did "
            "(site, subject type and the site's id)."
        ),
        "params": _TITLE_PARAMS,
        "sql": _histogram_sql(_THE_TITLE),
    },
    "ratings_over_time": {
        "title": "A title's ratings over time",
        "description": (
            "One title's reviews per month of publication, with their mean, lowest and "
            "highest rating (site, subject type and the site's id)."
        ),
        "params": _TITLE_PARAMS,
        "sql": _over_time_sql(_THE_TITLE),
    },
    "edited_reviews": {
        "title": "Edited reviews",
        "description": (
            "Reviews with more than one (text, rating) state, the latest edit first: how many "
            "versions, the day each was first seen, the ratings in order and how many "
            "characters the latest edit added (or removed, below 0). The review id opens its "
            "page, with each edit as a word diff."
        ),
        "sql": (
            "SELECT r.site, r.review_id, r.subject_type, r.subject_id, r.subject_title, "
            "r.author_name, r.version_count AS versions, "
            "group_concat(substr(v.first_seen_at, 1, 10), ' → ') AS versions_first_seen, "
            "group_concat(coalesce(v.rating, '-'), ' → ') AS ratings, "
            "length(r.text) - (SELECT length(v0.text) FROM review_versions v0 "
            "WHERE v0.site = r.site AND v0.review_id = r.review_id AND v0.text IS NOT NULL "
            "ORDER BY v0.first_seen_at DESC, v0.id DESC LIMIT 1) AS characters_changed "
            "FROM reviews r JOIN (SELECT * FROM review_versions "
            "ORDER BY site, review_id, first_seen_at, id) v "
            "ON v.site = r.site AND v.review_id = r.review_id "
            "WHERE r.version_count > 1 GROUP BY r.site, r.review_id "
            "ORDER BY max(v.first_seen_at) DESC, r.site, r.review_id"
        ),
    },
    "newest_reviews": {
        "title": "Newest reviews",
        "description": "The 100 most recently published reviews, of every site.",
        "sql": (
            "SELECT site, subject_title, author_name, published_at, rating, recommendation, "
            "substr(text, 1, 300) AS excerpt, review_id, subject_type, subject_id, "
            "rating_scale FROM reviews "
            "ORDER BY published_at DESC LIMIT 100"
        ),
    },
}


QUERIES: dict[str, dict[str, Any]] = {
    name: {**query, "hide_sql": True} for name, query in _QUERIES.items()
}
"""The canned queries, their SQL one click away (it is long)."""


def _vega_lite(spec: dict[str, Any]) -> dict[str, Any]:
    return {"library": "vega-lite", "display": spec}


def dashboards(database: str) -> dict[str, Any]:
    """The datasette-dashboards configuration: one dashboard over the archive `database`."""
    charts: dict[str, dict[str, Any]] = {
        "per_month": {
            "title": "Reviews published per month, per site",
            "query": (
                "SELECT substr(published_at, 1, 7) || '-01' AS month, site, "
                "count(*) AS reviews FROM reviews "
                "WHERE published_at IS NOT NULL AND published_at >= '1970' [[AND site = :site]] "
                "GROUP BY month, site ORDER BY month, site"
            ),
            **_vega_lite(
                {
                    "height": 220,
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {
                            "field": "month",
                            "type": "temporal",
                            "timeUnit": "yearmonth",
                            "title": "month published",
                        },
                        "y": {
                            "field": "reviews",
                            "type": "quantitative",
                            "stack": True,
                            "title": "reviews",
                        },
                        "color": {"field": "site", "type": "nominal"},
                    },
                }
            ),
        },
        "ratings": {
            "title": "Rating distribution of a title (every rating of its scale)",
            "query": _histogram_sql(_CHOSEN_TITLE),
            **_vega_lite(
                {
                    "height": 220,
                    "transform": [
                        {
                            "calculate": "datum.subject_title + ' (' + datum.site + ' ' + "
                            "datum.subject_type + ' ' + datum.subject_id + ')'",
                            "as": "title",
                        },
                        {
                            "calculate": "datum.rating + ' / ' + datum.rating_scale",
                            "as": "rating of scale",
                        },
                    ],
                    "mark": {"type": "bar", "tooltip": True},
                    "encoding": {
                        "x": {
                            "field": "rating",
                            "type": "ordinal",
                            "sort": None,
                            "title": "rating",
                            "axis": {"labelAngle": 0},
                        },
                        "y": {"field": "reviews", "type": "quantitative", "title": "reviews"},
                        "color": {
                            "field": "title",
                            "type": "nominal",
                            "legend": {"orient": "top", "title": None, "labelLimit": 0},
                        },
                        "tooltip": [
                            {"field": "title"},
                            {"field": "rating of scale"},
                            {"field": "reviews", "type": "quantitative"},
                        ],
                    },
                }
            ),
        },
        "over_time": {
            "title": "Ratings of a title over time (monthly mean; dot size: reviews)",
            "query": _over_time_sql(_CHOSEN_TITLE),
            **_vega_lite(
                {
                    "height": 220,
                    "transform": [
                        {
                            "calculate": "datum.subject_title + ' (' + datum.site + ' ' + "
                            "datum.subject_type + ' ' + datum.subject_id + ')'",
                            "as": "title",
                        },
                    ],
                    "encoding": {
                        "x": {
                            "field": "month",
                            "type": "temporal",
                            "timeUnit": "yearmonth",
                            "title": "month published",
                        },
                        "y": {
                            "field": "mean_rating",
                            "type": "quantitative",
                            "title": "mean rating",
                            "scale": {"zero": True},
                        },
                        "color": {
                            "field": "title",
                            "type": "nominal",
                            "legend": {"orient": "top", "title": None, "labelLimit": 0},
                        },
                    },
                    "layer": [
                        {"mark": {"type": "line", "point": False}},
                        {
                            "mark": {"type": "circle", "tooltip": True},
                            "encoding": {
                                "size": {
                                    "field": "reviews",
                                    "type": "quantitative",
                                    "legend": None,
                                },
                                "tooltip": [
                                    {"field": "month", "type": "temporal", "timeUnit": "yearmonth"},
                                    {"field": "reviews", "type": "quantitative"},
                                    {"field": "mean_rating", "type": "quantitative"},
                                    {"field": "lowest", "type": "quantitative"},
                                    {"field": "highest", "type": "quantitative"},
                                    {"field": "rating_scale", "type": "quantitative"},
                                ],
                            },
                        },
                    ],
                }
            ),
        },
        "edited": {
            "title": "Most edited reviews (click a bar for the review and its diffs)",
            "query": (
                "SELECT r.site, r.review_id, coalesce(r.subject_title, r.subject_id) || ' — ' "
                "|| r.author_name || ' (' || r.site || ')' AS review, "
                "r.version_count AS versions, r.last_seen_at, "
                f"'/-/review/' || r.site || '/' || {_URL_QUOTED_ID} AS href "
                "FROM reviews r WHERE r.version_count > 1 [[AND r.site = :site]] "
                "ORDER BY r.version_count DESC, r.last_seen_at DESC LIMIT 15"
            ),
            **_vega_lite(
                {
                    "height": 220,
                    "encoding": {
                        "y": {
                            "field": "review",
                            "type": "nominal",
                            "sort": "-x",
                            "title": None,
                            "axis": {"labelLimit": 260},
                        },
                        "x": {
                            "field": "versions",
                            "type": "quantitative",
                            "title": "versions",
                            "axis": {"labels": False, "ticks": False},
                        },
                    },
                    "layer": [
                        {
                            "mark": {"type": "bar", "tooltip": True, "cursor": "pointer"},
                            "encoding": {
                                "color": {"field": "site", "type": "nominal"},
                                "href": {"field": "href"},
                            },
                        },
                        {
                            "mark": {"type": "text", "align": "right", "dx": -6, "color": "white"},
                            "encoding": {"text": {"field": "versions", "type": "quantitative"}},
                        },
                    ],
                }
            ),
        },
        "runs": {
            "title": "Runs: reviews new and updated per run, alarms",
            "query": (
                "SELECT id AS run, started_at, command, outcome, reviews_new AS new, "
                "reviews_updated AS updated, CASE WHEN json_valid(alarms) AND "
                "json_type(alarms) = 'array' THEN json_array_length(alarms) ELSE 0 END AS alarms "
                "FROM crawls ORDER BY id DESC LIMIT 200"
            ),
            **_vega_lite(
                {
                    "height": 220,
                    "layer": [
                        {
                            "transform": [{"fold": ["new", "updated"], "as": ["reviews", "count"]}],
                            "mark": {"type": "bar", "tooltip": True},
                            "encoding": {
                                "x": {
                                    "field": "run",
                                    "type": "ordinal",
                                    "title": "run",
                                    "axis": {"labelAngle": 0},
                                },
                                "y": {
                                    "field": "count",
                                    "type": "quantitative",
                                    "title": "reviews",
                                    "stack": True,
                                },
                                "color": {
                                    "field": "reviews",
                                    "type": "nominal",
                                    "scale": {"range": ["#4c78a8", "#f58518"]},
                                },
                                "tooltip": [
                                    {"field": "run"},
                                    {"field": "started_at"},
                                    {"field": "command"},
                                    {"field": "outcome"},
                                    {"field": "reviews"},
                                    {"field": "count", "type": "quantitative"},
                                    {"field": "alarms", "type": "quantitative"},
                                ],
                            },
                        },
                        {
                            "transform": [{"filter": "datum.alarms > 0"}],
                            "mark": {
                                "type": "point",
                                "shape": "triangle-up",
                                "filled": True,
                                "size": 120,
                                "color": "#d62728",
                                "tooltip": True,
                            },
                            "encoding": {
                                "x": {"field": "run", "type": "ordinal"},
                                "y": {
                                    "field": "alarms",
                                    "type": "quantitative",
                                    "title": "alarms (red)",
                                    "axis": {"tickMinStep": 1},
                                },
                            },
                        },
                    ],
                    "resolve": {"scale": {"y": "independent"}},
                }
            ),
        },
    }
    subjects_rated = (
        "EXISTS (SELECT 1 FROM reviews r WHERE r.site = s.site AND r.subject_type = s.type "
        "AND r.subject_id = s.subject_id AND r.rating IS NOT NULL)"
    )
    return {
        DASHBOARD: {
            "title": "Reviews across sites",
            "description": (
                "Reviews per month per site, a title's ratings (the most rated title unless "
                "the title filter names one), the most edited reviews and the runs. Filter by "
                "site to narrow every chart but the runs."
            ),
            "layout": [
                ["per_month", "per_month"],
                ["ratings", "over_time"],
                ["edited", "runs"],
            ],
            "filters": {
                "site": {
                    "name": "Site",
                    "type": "select",
                    "db": database,
                    "query": "SELECT DISTINCT site FROM reviews ORDER BY site",
                },
                "title": {
                    "name": "Title (rating charts)",
                    "type": "select",
                    "db": database,
                    "query": (
                        f"SELECT {_SUBJECT_LABEL} AS label FROM subjects s WHERE {subjects_rated} "
                        "[[AND s.site = :site]] ORDER BY lower(label)"
                    ),
                },
            },
            "charts": {slug: {"db": database, **chart} for slug, chart in charts.items()},
        }
    }


def datasette_metadata(database: str) -> dict[str, Any]:
    """Datasette's metadata for the archive served as database `database` (the file's stem)."""
    start = (
        f'Start with <a href="/-/dashboards/{DASHBOARD}">the dashboard</a>, '
        f'<a href="/{database}/reviews">the reviews</a> (facets, search) or '
        f'<a href="/{database}/search_reviews">a ranked search</a>; a review id opens the '
        "review's page: its text, every edit as a word diff, reactions over time, raw page."
    )
    # A copy: Datasette writes into the metadata it is given (the module's dicts stay as they are).
    return copy.deepcopy(
        {
            "title": TITLE,
            "description_html": (
                "Community reviews scraped and archived by reviewhoard: current reviews, every "
                "edit, reaction history, raw pages. " + start
            ),
            "databases": {
                database: {
                    "description_html": "The archive. " + start,
                    "tables": {
                        **TABLES,
                        "reviews_fts": {"hidden": True},
                        "_sqlite_migrations": {"hidden": True},
                    },
                    "queries": QUERIES,
                }
            },
            "plugins": {"datasette-dashboards": dashboards(database)},
        }
    )
