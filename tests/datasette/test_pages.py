"""The archive's pages, asked of Datasette in this process (with the archive's plugin and the
metadata `hoard serve` gives it), over an archive of every site: the review page, the reviews
table, search, the canned queries and every chart's query."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from datasette.app import Datasette

from reviewhoard.archive.metadata import DASHBOARD, QUERIES, dashboards, datasette_metadata
from reviewhoard.hoard.commands.serve import SETTINGS, register_plugin
from tests.conftest import fixtures_dir
from tests.datasette.builder import BEBOP, EDITED, build

DB = "archive"


class Site:
    """Datasette in this process, asked like a browser or a script would."""

    def __init__(self, ds: Datasette) -> None:
        self.ds = ds
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, status: int = 200, **params: Any) -> httpx.Response:
        response = self.loop.run_until_complete(self.ds.client.get(path, params=params or None))
        assert response.status_code == status, (path, response.text[:500])
        return response

    def rows(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return self.get(path, _shape="array", **params).json()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pages") / f"{DB}.db"
    build(db)
    return db


@pytest.fixture(scope="module")
def site(archive: Path) -> Iterator[Site]:
    register_plugin()
    ds = Datasette([str(archive)], metadata=datasette_metadata(DB), settings=SETTINGS)
    served = Site(ds)
    yield served
    served.loop.close()


def review_path(site_key: str, review_id: str) -> str:
    return f"/-/review/{quote(site_key, safe='')}/{quote(review_id, safe='')}"


# -- the review page ---------------------------------------------------------------------------


def test_an_edited_review_shows_what_each_version_changed(site: Site):
    html = site.get(review_path(*EDITED)).text
    assert (
        '<h1><a href="/archive/reviews?site=myanimelist&amp;subject_type=anime&amp;subject_id=1"'
        in html
    )
    assert ">Cowboy Bebop</a></h1>" in html
    assert 'class="review-author">GonzoLewd</a>' in html
    assert '<span class="former-name">Gonzo-lewd</span>' in html  # renamed since 2018
    assert '<span class="review-rating">8<span class="scale"> / 10</span>' in html
    assert "<h2>2 versions</h2>" in html
    assert html.count('<li class="version') == 2
    assert "first seen 2018-12-15 10:00 UTC" in html and "first seen 2022-10-01 10:00 UTC" in html
    diff = html[html.index('<div class="diff') :]
    assert "<del>All things considered, there</del><ins>There</ins>" in diff
    assert "<del>important</del><ins>vital</ins>" in diff
    added, removed = re.search(
        r"\+(\d+) words</span> <span class=\"removed-count\">−(\d+)", html
    ).groups()  # type: ignore[union-attr]
    assert (int(added), int(removed)) == (87, 179)
    # The whole current text, in reading type, and where it came from.
    assert '<div class="review-text" lang="">There’s nothing quite like it' in html
    assert 'href="https://myanimelist.net/reviews.php?id=144725"' in html
    assert re.search(r'<a href="/-/raw/\d+" class="raw-page">', html)
    # Reactions over time: the chart's data and the scripts that draw it.
    assert '<div id="reactions-chart" class="chart" data-points="9">' in html
    assert "/-/static-plugins/datasette_dashboards/vega-lite.min.js" in html


def test_the_raw_page_is_served_as_stored_and_cannot_act(site: Site):
    html = site.get(review_path(*EDITED)).text
    page_id = re.search(r'<a href="/-/raw/(\d+)" class="raw-page">', html).group(1)  # type: ignore[union-attr]
    raw = site.get(f"/-/raw/{page_id}")
    saved = fixtures_dir() / "myanimelist" / "anime-1-reviews-2022-10.html"
    assert raw.content == saved.read_bytes()
    assert raw.headers["content-security-policy"].startswith("sandbox; default-src 'none'")
    assert raw.headers["content-type"] == "text/html; charset=utf-8"
    site.get("/-/raw/999999", status=404)


@pytest.mark.parametrize(
    ("key", "title", "facts"),
    [
        ("letterboxd", "Oppenheimer", ['<span class="scale"> / 5</span>']),
        ("goodreads", "The Great Gatsby", ['<span class="scale"> / 5']),
        ("steam", "", ['class="review-recommendation rec-']),
        ("trustpilot", "", ['<span class="scale"> / 5']),
        ("schemaorg", "The Left Hand of Darkness", ["schemaorg · book"]),
    ],
)
def test_a_review_of_every_site_has_its_page(site: Site, key: str, title: str, facts: list[str]):
    found = site.rows(
        f"/{DB}.json",
        sql="SELECT review_id, subject_title FROM reviews WHERE site = :site "
        "AND (:title = '' OR subject_title = :title) ORDER BY rating DESC, review_id LIMIT 1",
        site=key,
        title=title,
    )
    assert len(found) == 1, key
    html = site.get(review_path(key, found[0]["review_id"])).text
    assert f'data-site="{key}"' in html
    assert "<h2>1 version</h2>" in html and "Never edited" in html
    for fact in facts:
        assert fact in html, (key, fact)
    assert html.count('<div class="review-text') == 2  # the text, and the first version's


def test_a_reviews_row_page_leads_to_the_review_page(site: Site):
    html = site.get(f"/{DB}/reviews/myanimelist,144725").text
    assert '<a href="/-/review/myanimelist/144725" class="review-link">144725</a>' in html
    history = site.get(f"/{DB}/review_history", site="myanimelist", review_id="144725").text
    assert history.count('<a href="/-/review/myanimelist/144725" class="review-link">') == 2


def test_an_unknown_review_is_not_found(site: Site):
    site.get(review_path("myanimelist", "no-such-review"), status=404)


# -- tables and queries ------------------------------------------------------------------------


def test_the_reviews_table_reads_in_order_with_excerpts_and_links(site: Site):
    html = site.get(f"/{DB}/reviews").text
    heads = re.findall(r'<th [^>]*data-column="([^"]+)"', html)
    assert heads[:7] == [
        "site",
        "subject_title",
        "author_name",
        "published_at",
        "rating",
        "text",
        "review_id",
    ]
    cells = re.findall(
        r'<td class="col-text type-str"><span class="excerpt">(.*?)</span></td>', html, re.S
    )
    assert len(cells) == 100
    assert max(len(c) for c in cells) <= 300
    first_link = re.search(r'<td class="col-review_id type-str"><a href="(/-/review/[^"]+)"', html)
    assert first_link is not None
    site.get(first_link.group(1).replace("&amp;", "&"))
    assert '<dl class="column-descriptions">' in html  # folded away by reviewhoard.js
    assert "/-/reviewhoard/reviewhoard.js" in html and "/-/reviewhoard/reviewhoard.css" in html


def test_the_reviews_facets_help(site: Site):
    data = site.get(f"/{DB}/reviews.json", _size="0").json()
    facets = data["facet_results"]
    facets = facets.get("results", facets)
    assert set(facets) == {
        "site",
        "subject_type",
        "subject_title",
        "rating",
        "recommendation",
        "tags",
    }
    sites = {f["value"]: f["count"] for f in facets["site"]["results"]}
    assert sites == {
        "goodreads": 60,
        "letterboxd": 24,
        "myanimelist": 64,
        "schemaorg": 9,
        "steam": 291,
        "trustpilot": 20,
    }
    html = site.get(f"/{DB}/reviews").text
    rating = html[html.index('id="facet-rating"') :]
    rating = rating[: rating.index("</ul>")]
    values = [float(v) for v in re.findall(r">(\d+(?:\.\d+)?)</a>", rating)]
    assert values == sorted(values) and len(values) == 10 and {2.0, 4.5, 10.0} <= set(values)
    order = re.findall(r'id="facet-([a-z_]+)"', html)
    assert order == ["site", "subject_type", "subject_title", "rating", "recommendation", "tags"]


def test_a_table_search_shows_highlighted_snippets(site: Site):
    html = site.get(f"/{DB}/reviews", _search="bounty hunters").text
    snippets = re.findall(r'<span class="snippet">(.*?)</span></td>', html, re.S)
    assert len(snippets) == 8
    assert all("<mark>bounty</mark>" in s for s in snippets)
    assert "best matches first (ranked search)" in html


def test_the_ranked_search_query(site: Site):
    rows = site.rows(f"/{DB}/search_reviews.json", q="bounty hunters", site="")
    assert len(rows) == 8
    assert all("<mark>bounty</mark>" in r["snippet"] for r in rows)
    assert {r["site"] for r in rows} == {"myanimelist"}
    one_site = site.rows(f"/{DB}/search_reviews.json", q="great", site="goodreads")
    assert one_site and {r["site"] for r in one_site} == {"goodreads"}
    assert site.rows(f"/{DB}/search_reviews.json", q="", site="") == []
    assert site.rows(f"/{DB}/search_reviews.json", q='"(unbalanced', site="") == []
    html = site.get(f"/{DB}/search_reviews", q="bounty hunters", site="").text
    table = html[html.index('<table class="rows-and-columns">') :]
    assert table.count('<span class="snippet">') == 8
    assert table.count("<mark>bounty</mark>") >= 8 and "&lt;mark&gt;" not in table


def test_a_rating_histogram_lists_every_rating_of_the_scale(site: Site):
    oppenheimer = site.rows(
        f"/{DB}/rating_histogram.json", site="letterboxd", subject_type="film", subject_id="784328"
    )
    assert [(r["rating"], r["reviews"]) for r in oppenheimer] == [
        (0.5, 0),
        (1, 1),
        (1.5, 0),
        (2, 1),
        (2.5, 0),
        (3, 0),
        (3.5, 2),
        (4, 1),
        (4.5, 5),
        (5, 14),
    ]
    anime = site.rows(
        f"/{DB}/rating_histogram.json", site="myanimelist", subject_type="anime", subject_id="1"
    )
    manga = site.rows(
        f"/{DB}/rating_histogram.json", site="myanimelist", subject_type="manga", subject_id="1"
    )
    assert [r["rating"] for r in anime] == list(range(1, 11)) == [r["rating"] for r in manga]
    assert sum(r["reviews"] for r in anime) == 24 and sum(r["reviews"] for r in manga) == 20
    assert {r["subject_title"] for r in anime} == {"Cowboy Bebop"}
    assert {r["subject_title"] for r in manga} == {"Monster"}
    assert site.rows(f"/{DB}/rating_histogram.json", site="", subject_type="", subject_id="") == []
    # schema.org: one title rated on two scales (9 of 10, 4 of 5), one series each.
    plural = site.rows(
        f"/{DB}/rating_histogram.json",
        site="schemaorg",
        subject_type="book",
        subject_id="https://www.wikidata.org/wiki/Q1212268",
    )
    assert {r["rating_scale"] for r in plural} == {5, 10}
    assert [(r["rating_scale"], r["rating"]) for r in plural if r["reviews"]] == [(5, 4), (10, 9)]
    # Other schema.org reviews give halves on both scales (4.5 of 5, 8.5 of 10): steps of 0.5.
    assert len(plural) == 10 + 20


def test_the_title_queries_take_site_type_and_id(site: Site):
    rows = site.rows(
        f"/{DB}/reviews_of_title.json", site="myanimelist", subject_type="manga", subject_id="1"
    )
    assert len(rows) == 20 and {(r["subject_type"], r["subject_title"]) for r in rows} == {
        ("manga", "Monster")
    }
    dates = [r["published_at"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    months = site.rows(
        f"/{DB}/ratings_over_time.json",
        site="goodreads",
        subject_type="book",
        subject_id="14476341",
    )
    assert sum(m["reviews"] for m in months) == 30
    assert all(m["lowest"] <= m["mean_rating"] <= m["highest"] <= 5 for m in months)


def test_edited_reviews_show_what_changed_without_whole_texts(site: Site):
    rows = site.rows(f"/{DB}/edited_reviews.json")
    assert [(r["site"], r["review_id"]) for r in rows] == [
        ("myanimelist", "144725"),
        ("myanimelist", "293082"),
    ]
    assert rows[0]["versions_first_seen"] == "2018-12-15 → 2022-10-01"
    assert rows[0]["ratings"] == "8 → 8"
    assert rows[0]["characters_changed"] == -376
    assert "text" not in rows[0]
    html = site.get(f"/{DB}/edited_reviews").text
    assert '<a href="/-/review/myanimelist/144725" class="review-link">144725</a>' in html


def test_canned_query_sql_is_one_click_away(site: Site):
    assert all(q["hide_sql"] for q in QUERIES.values())
    html = site.get(
        f"/{DB}/rating_histogram", site="myanimelist", subject_type="anime", subject_id="1"
    ).text
    assert "(<a href=" in html and ">show</a>)" in html


# -- the dashboard -----------------------------------------------------------------------------


def chart_sql(sql: str, filters: dict[str, str]) -> str:
    """A chart's SQL as datasette-dashboards runs it: [[...]] kept only when its filter is set."""

    def keep(match: re.Match[str]) -> str:
        name = re.search(r":([a-z_]+)", match.group(1))
        return match.group(1) if name and filters.get(name.group(1)) else ""

    return re.sub(r"\[\[(.*?)\]\]", keep, sql, flags=re.S)


def test_every_chart_answers_for_every_site(site: Site):
    charts = dashboards(DB)[DASHBOARD]["charts"]
    assert set(charts) == {"per_month", "ratings", "over_time", "edited", "runs"}
    sites = ["", "myanimelist", "letterboxd", "goodreads", "trustpilot", "steam", "schemaorg"]
    answered: dict[str, set[str]] = {slug: set() for slug in charts}
    for key in sites:
        filters = {"site": key} if key else {}
        for slug, chart in charts.items():
            rows = site.rows(f"/{DB}.json", sql=chart_sql(chart["query"], filters), **filters)
            if rows:
                answered[slug].add(key)
            if slug in ("per_month", "edited", "ratings", "over_time") and key:
                assert {r["site"] for r in rows} <= {key}, (slug, key)
    assert answered["per_month"] == set(sites)
    assert answered["ratings"] == set(sites) - {"steam"}  # Steam reviews recommend, not rate
    assert answered["over_time"] == set(sites) - {"steam"}
    assert answered["edited"] == {"", "myanimelist"}
    assert answered["runs"] == set(sites)  # runs are the archive's, not a site's


def test_the_title_filter_names_a_title_for_the_rating_charts(site: Site):
    page = site.get(f"/-/dashboards/{DASHBOARD}").text
    label = "Cowboy Bebop · myanimelist anime 1"
    assert f'<option value="{label}"' in page
    charts = dashboards(DB)[DASHBOARD]["charts"]
    filters = {"title": label}
    rows = site.rows(f"/{DB}.json", sql=chart_sql(charts["ratings"]["query"], filters), **filters)
    assert {(r["site"], r["subject_type"], r["subject_id"]) for r in rows} == {BEBOP}
    assert [r["rating"] for r in rows] == list(range(1, 11))
    assert sum(r["reviews"] for r in rows) == 24
    # No title named: the most rated title (of the site, when one is named).
    default = site.rows(f"/{DB}.json", sql=chart_sql(charts["ratings"]["query"], {}))
    assert {(r["site"], r["subject_type"], r["subject_id"]) for r in default} == {
        ("goodreads", "book", "14476341")
    }
    assert sum(r["reviews"] for r in default) == 30
    filters = {"site": "myanimelist"}
    mal = site.rows(f"/{DB}.json", sql=chart_sql(charts["over_time"]["query"], filters), **filters)
    assert {(r["site"], r["subject_type"], r["subject_id"]) for r in mal} == {BEBOP}
    assert sum(r["reviews"] for r in mal) == 24
