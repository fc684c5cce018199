"""The archive's Datasette plugin: what makes the archive read well in a browser.

- `/-/review/SITE/ID`: a review's page (text in readable type, every version as a word diff
  against the one before, the author's former names, reactions over time as a chart, the raw
  page it was read from); `?db=NAME` when several archives are served.
- `/-/raw/PAGE_ID`: a stored raw page as it was served, sandboxed (no scripts, nothing fetched).
- Links wherever a review or a title appears (a review id opens its page, a title lists its
  reviews, an author name their reviews), excerpts instead of whole texts in tables, search
  snippets highlighted, the reviews table's columns in reading order with the search snippet
  in place of the text, rating facets in scale order, column descriptions one click away.

`hoard serve` registers it; installed with the package it is found by Datasette's `datasette`
entry point too, so plain `datasette archive.db -m FILE` shows the same pages. It does nothing
to a database that is not an archive (no `reviews` and `review_versions` tables).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import markupsafe
from datasette import hookimpl
from datasette.utils import tilde_encode
from datasette.utils.asgi import NotFound, Request, Response

from reviewhoard.archive.datasette.diff import Fold, word_diff
from reviewhoard.archive.metadata import DASHBOARD
from reviewhoard.archive.queries import raw_page, review_detail

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"reviewhoard.css": "text/css", "reviewhoard.js": "text/javascript"}

EXCERPT_CHARS = 280
"""How much of a text a table cell shows: the whole text is on the review's page."""

LEADING_COLUMNS: tuple[str, ...] = (
    "site",
    "subject_title",
    "author_name",
    "published_at",
    "rating",
    "text",
    "review_id",
    "Link",
)
"""The reviews table's first columns, in reading order; the others follow as stored."""

_EXCERPTED: dict[str, tuple[str, ...]] = {
    "reviews": ("text",),
    "review_versions": ("text",),
    "review_history": ("text", "previous_text"),
    "edited_reviews": ("text",),
    "text_completions": ("text",),
}
"""Whole texts a table shows as excerpts."""

_MARK = re.compile(r"&lt;mark&gt;(.*?)&lt;/mark&gt;", re.S)


def _value(row: Any, name: str) -> Any:
    """`row[name]`, or None when the row has no such column (rows differ by table and query)."""
    try:
        return row[name]
    except (IndexError, KeyError):
        return None


def _archives(datasette: Any) -> dict[str, bool]:
    """Which served databases are archives, as found (cached on the Datasette instance)."""
    found: dict[str, bool] | None = getattr(datasette, "_reviewhoard_archives", None)
    if found is None:
        found = {}
        datasette._reviewhoard_archives = found
    return found


async def _is_archive(datasette: Any, database: str | None) -> bool:
    if not database or database not in datasette.databases:
        return False
    found = _archives(datasette)
    if database not in found:
        db = datasette.get_database(database)
        found[database] = await db.table_exists("reviews") and await db.table_exists(
            "review_versions"
        )
    return found[database]


def _served_databases(datasette: Any) -> list[str]:
    return [name for name in datasette.databases if not name.startswith("_")]


def review_url(datasette: Any, database: str, site: str, review_id: str) -> str:
    """The path of a review's page (naming the database only when several are served)."""
    path = f"/-/review/{quote(str(site), safe='')}/{quote(str(review_id), safe='')}"
    if len(_served_databases(datasette)) > 1:
        path += "?" + urlencode({"db": database})
    return str(datasette.urls.path(path))


def _reviews_url(datasette: Any, database: str, **filters: Any) -> str:
    return f"{datasette.urls.table(database, 'reviews')}?{urlencode(filters)}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of `text`, cut at a word boundary, with an ellipsis when cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + " …"


def highlighted(snippet: str) -> markupsafe.Markup:
    """An FTS snippet made with `<mark>` markers, escaped, with only those markers kept."""
    escaped = str(markupsafe.escape(snippet))
    return markupsafe.Markup(_MARK.sub(r"<mark>\1</mark>", escaped))


def _link(href: str, text: Any, css: str = "") -> markupsafe.Markup:
    cls = f' class="{css}"' if css else ""
    return markupsafe.Markup(f'<a href="{markupsafe.escape(href)}"{cls}>') + markupsafe.Markup(
        "{}</a>"
    ).format(text)


async def _render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> markupsafe.Markup | None:
    if not await _is_archive(datasette, database):
        return None
    site = _value(row, "site")
    if column == "review_id" and site and value and table not in ("rejects", "text_completions"):
        return _link(review_url(datasette, database, site, value), value, "review-link")
    if column in ("subject_title", "title") and value:
        stype = _value(row, "subject_type") or (
            _value(row, "type") if table == "subjects" else None
        )
        sid = _value(row, "subject_id")
        if site and stype and sid is not None:
            href = _reviews_url(datasette, database, site=site, subject_type=stype, subject_id=sid)
            return _link(href, value, "title-link")
    if column in ("author_name", "name") and value:
        author_id = _value(row, "author_id") if column == "author_name" else None
        if column == "name" and table == "authors":
            author_id = _value(row, "id")
        if author_id is not None:
            return _link(_reviews_url(datasette, database, author_id=author_id), value)
    if column == "snippet" and table is None and isinstance(value, str):
        return markupsafe.Markup('<span class="snippet">{}</span>').format(highlighted(value))
    if isinstance(value, str) and (
        column in _EXCERPTED.get(table or "", ()) or (column == "excerpt" and table is None)
    ):
        return markupsafe.Markup('<span class="excerpt">{}</span>').format(excerpt(value))
    if column == "tags" and table == "reviews" and isinstance(value, str):
        try:
            slugs = json.loads(value)
        except ValueError:
            return None
        if not isinstance(slugs, list):
            return None
        return markupsafe.Markup(" ").join(
            _link(_reviews_url(datasette, database, tags__arraycontains=s), s, "tag") for s in slugs
        )
    if column == "rating" and value is not None and _value(row, "rating_scale"):
        scale = _value(row, "rating_scale")
        return markupsafe.Markup('{}<span class="scale">/{}</span>').format(value, scale)
    return None


_CELL_COLUMNS = frozenset(
    {"review_id", "subject_title", "title", "author_name", "name", "snippet", "tags", "rating"}
    | {"excerpt"}
    | {c for columns in _EXCERPTED.values() for c in columns}
)


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Any:
    """Links, excerpts and highlights in the archive's tables and queries (see the module)."""
    if column not in _CELL_COLUMNS:
        return None
    return _render_cell(row, value, column, table, database, datasette)


class ReviewsLayout:
    """What the reviews table's template (`_table.html`) asks: the column order, snippets."""

    def __init__(self, datasette: Any, database: str) -> None:
        self.datasette = datasette
        self.database = database

    def order(self, display_columns: list[dict[str, Any]]) -> list[int]:
        """Indexes of `display_columns` with `LEADING_COLUMNS` first."""
        names = [c["name"] for c in display_columns]
        first = [names.index(n) for n in LEADING_COLUMNS if n in names]
        return first + [i for i in range(len(names)) if i not in first]

    @staticmethod
    def key(row: Any) -> str:
        """How `snippets` names a row: its site and review id."""
        return f"{_value(row, 'site')}\x1f{_value(row, 'review_id')}"

    async def snippets(self, search: str, rows: list[Any]) -> dict[str, markupsafe.Markup]:
        """The search snippet of each shown row (`key(row)` -> highlighted HTML)."""
        keys = [(_value(r, "site"), _value(r, "review_id")) for r in rows]
        keys = [k for k in keys if k[0] is not None and k[1] is not None]
        if not search or not keys:
            return {}
        wanted = " OR ".join("(r.site = ? AND r.review_id = ?)" for _ in keys)
        db = self.datasette.get_database(self.database)
        try:
            result = await db.execute(
                "SELECT r.site, r.review_id, "
                "snippet(reviews_fts, -1, '<mark>', '</mark>', ' … ', 40) "
                "FROM reviews_fts JOIN reviews r ON r.rowid = reviews_fts.rowid "
                f"WHERE reviews_fts MATCH escape_fts(?) AND ({wanted})",
                [search, *(v for k in keys for v in k)],
            )
        except Exception:  # a search Datasette itself could run but this one not: no snippets
            return {}
        return {
            f"{site}\x1f{rid}": markupsafe.Markup('<span class="snippet">{}</span>').format(
                highlighted(text)
            )
            for site, rid, text in result.rows
        }


@hookimpl
def extra_template_vars(
    template: str, database: str | None, table: str | None, view_name: str, datasette: Any
) -> Any:
    """The reviews table's layout helper, for `_table.html`."""
    if view_name != "table" or table != "reviews" or not database:
        return None

    async def inner() -> dict[str, Any]:
        if not await _is_archive(datasette, database):
            return {}
        return {"reviewhoard_layout": ReviewsLayout(datasette, database)}

    return inner


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    """The plugin's stylesheet, on every page."""
    return [datasette.urls.path("/-/reviewhoard/reviewhoard.css")]


@hookimpl
def extra_js_urls(datasette: Any) -> list[dict[str, Any]]:
    """The plugin's script (column descriptions folded behind a click), on every page."""
    return [{"url": datasette.urls.path("/-/reviewhoard/reviewhoard.js"), "module": True}]


@hookimpl
def menu_links(datasette: Any) -> list[dict[str, str]]:
    """The archive's dashboard in the menu."""
    return [{"href": datasette.urls.path(f"/-/dashboards/{DASHBOARD}"), "label": "Dashboard"}]


async def _archive_database(datasette: Any, request: Request) -> Any:
    wanted = request.args.get("db")
    names = [wanted] if wanted else _served_databases(datasette)
    for name in names:
        if await _is_archive(datasette, name):
            return datasette.get_database(name)
    raise NotFound("No archive is served here" + (f" as {wanted!r}" if wanted else ""))


def _when(moment: str | None) -> str:
    """An archive time (ISO, UTC) as people read it: 2022-10-01 14:03 UTC."""
    if not moment:
        return ""
    if "T" not in moment:
        return moment
    day, time = moment.split("T", 1)
    return f"{day} {time[:5]} UTC"


def _number(value: Any) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _diffed(detail: dict[str, Any]) -> dict[str, Any]:
    """The review's versions, each with its word diff against the one before."""
    previous: dict[str, Any] | None = None
    for number, version in enumerate(detail["versions"], 1):
        version["number"] = number
        version["first_seen"] = _when(version["first_seen_at"])
        version["last_seen"] = _when(version["last_seen_at"])
        version["rating_shown"] = _number(version["rating"])
        if previous is None:
            version["diff"] = None
        else:
            diff = word_diff(previous["text"], version["text"])
            version["diff"] = [
                {"fold": True, "head": p.head, "middle": p.middle, "tail": p.tail, "words": p.words}
                if isinstance(p, Fold)
                else {"fold": False, "op": p.op, "text": p.text}
                for p in diff.folded()
            ]
            version["added"], version["removed"] = diff.added, diff.removed
            version["previous_rating"] = _number(previous["rating"])
        previous = version
    return detail


async def review_page(request: Request, datasette: Any) -> Response:
    """`/-/review/SITE/ID`: one review, its versions as word diffs, its reactions over time."""
    site = unquote(request.url_vars["site"])
    review_id = unquote(request.url_vars["review_id"])
    db = await _archive_database(datasette, request)
    detail = await db.execute_fn(
        lambda conn: (lambda d: _diffed(d) if d else None)(review_detail(conn, site, review_id))
    )
    if detail is None:
        raise NotFound(f"No review {review_id!r} of {site!r} in the archive")
    name = db.name
    context = {
        "database": name,
        "review": detail,
        "rating_shown": _number(detail["rating"]),
        "scale_shown": _number(detail["rating_scale"]),
        "first_seen": _when(detail["first_seen_at"]),
        "last_seen": _when(detail["last_seen_at"]),
        "gone": _when(detail["gone_at"]),
        "renamed": _when(detail["renamed_at"]),
        "observations": [
            {**o, "seen": _when(o["observed_at"])} for o in detail["reaction_observations"]
        ],
        "title_url": _reviews_url(
            datasette,
            name,
            site=site,
            subject_type=detail["subject_type"],
            subject_id=detail["subject_id"],
        ),
        "author_url": _reviews_url(datasette, name, author_id=detail["author_id"]),
        "tag_urls": {
            tag: _reviews_url(datasette, name, tags__arraycontains=tag) for tag in detail["tags"]
        },
        "raw_url": lambda page_id: datasette.urls.path(
            f"/-/raw/{page_id}"
            + ("?" + urlencode({"db": name}) if len(_served_databases(datasette)) > 1 else "")
        ),
        "row_url": lambda table, *pks: datasette.urls.row(
            name, table, ",".join(tilde_encode(str(p)) for p in pks)
        ),
        "history_url": datasette.urls.table(name, "review_history")
        + "?"
        + urlencode({"site": site, "review_id": review_id}),
        "reactions_url": datasette.urls.table(name, "reaction_counts")
        + "?"
        + urlencode({"site": site, "review_id": review_id}),
        "vega": {
            file: datasette.urls.static_plugins("datasette_dashboards", file)
            for file in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
        },
    }
    html = await datasette.render_template(
        "reviewhoard_review.html", context, request=request, view_name="review"
    )
    return Response.html(html)


async def raw_page_view(request: Request, datasette: Any) -> Response:
    """`/-/raw/PAGE_ID`: a stored page's body as it was served, where it cannot act: scripts,
    forms and every fetch (images, styles on the real site) are refused by the browser."""
    db = await _archive_database(datasette, request)
    page_id = int(request.url_vars["page_id"])
    found = await db.execute_fn(lambda conn: raw_page(conn, page_id))
    if found is None:
        raise NotFound(f"No stored page {page_id}")
    body, headers = found
    lowered = {str(k).lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type") or "text/html; charset=utf-8"
    if isinstance(content_type, list):
        content_type = content_type[0]
    return Response(
        body,
        content_type=str(content_type),
        headers={
            "Content-Security-Policy": "sandbox; default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


async def static_file(request: Request, datasette: Any) -> Response:
    """The plugin's own stylesheet and script."""
    name = request.url_vars["name"]
    if name not in STATIC_FILES:
        raise NotFound(name)
    return Response(
        (STATIC / name).read_text(encoding="utf-8"),
        content_type=STATIC_FILES[name] + "; charset=utf-8",
        headers={"Cache-Control": "max-age=60"},
    )


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The review page, the raw page and the plugin's static files."""
    return [
        (r"^/-/review/(?P<site>[^/]+)/(?P<review_id>.+)$", review_page),
        (r"^/-/raw/(?P<page_id>[0-9]+)$", raw_page_view),
        (r"^/-/reviewhoard/(?P<name>[a-z0-9_.-]+)$", static_file),
    ]


from reviewhoard.archive.datasette.guard import asgi_wrapper, prepare_connection  # noqa: E402, F401  (hooks)
