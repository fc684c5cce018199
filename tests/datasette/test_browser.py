"""`hoard serve` looked at in a real browser (headless Chromium): every chart of the dashboard
is drawn, the review page shows an edited review's word diff and its reactions chart, a search
shows its highlighted snippets, the reviews table reads from the first screen. Each page's
screenshot is kept in tests/datasette/screenshots/ (the last run's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reviewhoard.archive.metadata import DASHBOARD, dashboards
from tests.datasette.browser import WINDOW, Browser, chromium
from tests.datasette.builder import EDITED, build
from tests.serving import hoard_serve

pytestmark = pytest.mark.slow

CHARTS = sorted(dashboards("archive")[DASHBOARD]["charts"])
DRAWN = """
const drawn = {};
for (const slug of arguments[0]) {
    const box = document.querySelector('#chart-' + slug);
    const art = box && box.querySelector('svg.marks, canvas.marks, svg, canvas');
    drawn[slug] = art ? [art.tagName.toLowerCase(), Math.round(art.getBoundingClientRect().width),
                         Math.round(art.getBoundingClientRect().height)] : null;
}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Browser, str]]:
    """The archive of every site served by `hoard serve`, and a browser; yields (browser, base
    URL of the server)."""
    db = tmp_path_factory.mktemp("browser") / "archive.db"
    build(db)
    with hoard_serve(db) as url, chromium() as browser:
        yield browser, url.rsplit("/", 1)[0]


def test_every_chart_of_the_dashboard_is_drawn(served: tuple[Browser, str]):
    browser, base = served
    browser.open(f"{base}/-/dashboards/{DASHBOARD}")
    browser.wait_for(
        DRAWN + "; return Object.values(drawn).every(Boolean)", CHARTS, what="every chart"
    )
    sizes = browser.run(DRAWN + "; return drawn", CHARTS)
    assert set(sizes) == {"edited", "over_time", "per_month", "ratings", "runs"}
    for slug, (tag, width, height) in sizes.items():
        assert tag in ("canvas", "svg"), slug
        assert width > 250 and height > 150, (slug, width, height)
    errors = browser.run(
        "return [...document.querySelectorAll('.vega-embed .error, .chart-container .error')]"
        ".map(e => e.textContent)"
    )
    assert errors == []
    browser.screenshot("dashboard")


def test_the_review_page_shows_an_edited_review_and_its_diff(served: tuple[Browser, str]):
    browser, base = served
    site, review_id = EDITED
    browser.open(f"{base}/-/review/{site}/{review_id}")
    browser.wait_for(
        "return document.querySelector('#reactions-chart svg.marks') !== null",
        what="the reactions chart",
    )
    seen = browser.run(
        """
        const text = s => [...document.querySelectorAll(s)].map(e => e.textContent);
        return {
            title: document.querySelector('h1').textContent.trim(),
            versions: text('.version h3').map(t => t.trim()),
            added: text('#version-2 .diff ins'),
            removed: text('#version-2 .diff del'),
            summary: document.querySelector('#version-2 .diff-summary').textContent.trim(),
            former: text('.former-name'),
            font: getComputedStyle(document.querySelector('.review-text')).fontFamily,
            width: document.querySelector('.review-text').getBoundingClientRect().width,
            lines: text('#reactions-chart svg .role-legend .role-legend-label text'),
        };
        """
    )
    assert seen["title"] == "Cowboy Bebop"
    assert seen["versions"] == ["Version 1", "Version 2 current"]
    assert "vital" in seen["added"] and "important" in seen["removed"]
    assert seen["summary"] == "+87 words −179 words against version 1"
    assert seen["former"] == ["Gonzo-lewd"]
    assert "Georgia" in seen["font"] or "serif" in seen["font"]
    assert 400 < seen["width"] < 800  # a readable measure, not the window's width
    assert {"nice", "found helpful"} <= set(seen["lines"])
    browser.screenshot("review", max_height=1400)
    browser.screenshot("review-diff", start="#versions", max_height=1600)
    browser.screenshot("review-reactions", start="#reactions", max_height=700)


def test_a_search_shows_its_snippets(served: tuple[Browser, str]):
    browser, base = served
    browser.open(f"{base}/archive/search_reviews?q=bounty+hunters&site=")
    marks = browser.wait_for(
        "const m = [...document.querySelectorAll('td .snippet mark')].map(e => e.textContent);"
        "return m.length ? m : null",
        what="highlighted snippets",
    )
    assert len(marks) >= 16 and {m.lower() for m in marks} == {"bounty", "hunters"}
    rows = browser.run("return document.querySelectorAll('table.rows-and-columns tbody tr').length")
    assert rows == 8
    browser.screenshot("search", max_height=1400)
    browser.open(f"{base}/archive/reviews?_search=bounty+hunters")
    snippets = browser.run("return document.querySelectorAll('td.col-text .snippet mark').length")
    assert snippets >= 16
    browser.screenshot("reviews-search", max_height=1400)


def test_the_reviews_table_reads_from_the_first_screen(served: tuple[Browser, str]):
    browser, base = served
    browser.open(f"{base}/archive/reviews")
    layout = browser.run(
        """
        const heads = [...document.querySelectorAll('table.rows-and-columns th')]
            .map(th => th.dataset.column);
        const text = document.querySelector('th.col-text').getBoundingClientRect();
        const rows = [...document.querySelectorAll('table.rows-and-columns tbody tr')]
            .map(tr => tr.getBoundingClientRect().height);
        const toggle = document.querySelector('details.column-descriptions-toggle');
        const list = document.querySelector('dl.column-descriptions');
        return {heads: heads.slice(0, 6), textLeft: text.left, textRight: text.right,
                tallest: Math.max(...rows), toggle: toggle && toggle.open === false,
                summary: toggle && toggle.querySelector('summary').textContent,
                listShown: list.checkVisibility()};
        """
    )
    assert layout["heads"] == [
        "site",
        "subject_title",
        "author_name",
        "published_at",
        "rating",
        "text",
    ]
    assert layout["textRight"] < WINDOW[0]  # the text column is in view without scrolling
    assert layout["tallest"] < 250  # excerpts, not 1,100 px rows
    assert layout["toggle"] is True and layout["summary"] == "Column descriptions (30)"
    assert layout["listShown"] is False
    browser.screenshot("reviews", max_height=1400)
    browser.open(f"{base}/archive/edited_reviews")
    link = browser.run("return document.querySelector('td.col-review_id a').href")
    assert link.endswith("/-/review/myanimelist/144725")
    browser.screenshot("edited-reviews", max_height=900)
    browser.open(f"{base}/archive")
    assert "/-/dashboards/reviews" in browser.run(
        "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href')).join(' ')"
    )
    browser.screenshot("database", max_height=1200)
