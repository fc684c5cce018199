"""End to end: `hoard crawl` (real Scrapy engine, real subprocess) against a replay site over real
HTTP on 127.0.0.1, into a real SQLite archive. Nothing of Scrapy is mocked; only the internet is
replaced, by saved MyAnimeList pages renumbered into multi-page feeds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.replay.harness import review_page_requests, run_crawl
from reviewhoard.replay.manifest import Fault, Route
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from reviewhoard.sites.myanimelist.synth import write_site

pytestmark = pytest.mark.slow

TITLE = ("anime", 1)
FIFTY = list(range(5050, 5000, -1))  # newest first: pages of 20, 20, 10


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def archived_ids(db: Path) -> set[str]:
    return {r for (r,) in rows(db, "SELECT review_id FROM reviews WHERE site = 'myanimelist'")}


def test_full_title_archived_then_update_fetches_one_page(site: ScratchSite, tmp_path: Path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY})
    first = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert first.returncode == 0, first.stderr
    assert archived_ids(db) == {str(i) for i in FIFTY}
    log = site.take_log()
    pages = review_page_requests(log)
    assert [p["query"].split("p=")[-1] for p in pages] == ["1", "2", "3"]
    assert all("sort=newest" in p["query"] and "spoiler=on" in p["query"] for p in pages)
    assert all("preliminary=on" in p["query"] for p in pages)
    ua = {e["user_agent"] for e in log}
    assert len(ua) == 1 and "reviewhoard" in ua.pop()
    stored = rows(db, "SELECT url, final_url, status, parser_version FROM pages ORDER BY id")
    assert len(stored) == 3
    for n, (url, final_url, status, version) in enumerate(stored, start=1):
        assert url.startswith("https://myanimelist.net/anime/1/_/reviews?") and url.endswith(
            f"p={n}"
        )
        assert final_url.startswith(site.url + "/anime/1/_/reviews?")
        assert status == 200 and version != "0"
    urls = {u for (u,) in rows(db, "SELECT url FROM reviews")}
    assert urls == {f"https://myanimelist.net/reviews.php?id={i}" for i in FIFTY}
    assert "crawl 1: 1 feed(s), 3 page(s), 50 review(s) (50 new" in first.stdout
    crawl = rows(db, "SELECT outcome, finish_reason, reviews_new FROM crawls WHERE id = 1")
    assert crawl == [("ok", "finished", 50)]

    again = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert again.returncode == 0, again.stderr
    assert len(review_page_requests(site.take_log())) == 1
    assert "20 unchanged" in again.stdout
    assert len(archived_ids(db)) == 50


def test_update_archives_new_reviews_with_at_most_one_extra_page(site: ScratchSite, tmp_path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY})
    assert run_crawl(db, site.url, ["--anime", "1"], site="mal").returncode == 0
    site.take_log()
    new = [5057, 5056, 5055, 5054, 5053, 5052, 5051]  # 7 new: page 1 has 7 new + 13 known
    site.publish({TITLE: new + FIFTY})
    update = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert update.returncode == 0, update.stderr
    assert archived_ids(db) == {str(i) for i in new + FIFTY}
    # ceil(7/20) + 1: page 1 had new reviews, page 2 was all known, so paging stopped there.
    assert len(review_page_requests(site.take_log())) == 2
    assert "7 new" in update.stdout


def test_update_keeps_paging_past_an_edited_review_and_keeps_both_versions(site, tmp_path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY})
    assert run_crawl(db, site.url, ["--anime", "1"], site="mal").returncode == 0
    site.take_log()
    site.publish({TITLE: FIFTY}, edited=frozenset({5040}))  # on page 1; no new ids anywhere
    update = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert update.returncode == 0, update.stderr
    # Page 1 is not all unchanged, so page 2 is read too; page 2 is, so paging stops there.
    assert len(review_page_requests(site.take_log())) == 2
    assert "0 new, 1 updated, 39 unchanged" in update.stdout
    edited = "SELECT version_count, substr(text, 1, 19) FROM reviews WHERE review_id = '5040'"
    assert rows(db, edited) == [(2, "Edit: rewatched it.")]


def test_retry_after_on_429_and_503_loses_nothing_and_waits(site: ScratchSite, tmp_path):
    db = tmp_path / "archive.db"
    site.publish(
        {TITLE: FIFTY},
        faults={
            ("anime", 1, 2): [Fault(kind="429", retry_after="2", times=1)],
            ("anime", 1, 3): [Fault(kind="503", retry_after="1", times=1)],
        },
    )
    result = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert result.returncode == 0, result.stderr
    assert archived_ids(db) == {str(i) for i in FIFTY}
    pages = review_page_requests(site.take_log())
    assert [(p["query"][-3:], p["status"]) for p in pages] == [
        ("p=1", 200),
        ("p=2", 429),
        ("p=2", 200),
        ("p=3", 503),
        ("p=3", 200),
    ]
    assert pages[2]["time"] - pages[1]["time"] >= 2.0
    assert pages[4]["time"] - pages[3]["time"] >= 1.0


def test_repeated_429_ends_the_crawl_with_a_reason(site: ScratchSite, tmp_path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY}, faults={("anime", 1, 1): [Fault(kind="429", retry_after="0")]})
    result = run_crawl(
        db, site.url, ["--anime", "1"], {"HOARD_MAX_CONSECUTIVE_THROTTLED": "3"}, site="mal"
    )
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith("hoard: crawl stopped (too_many_429)")
    assert len(review_page_requests(site.take_log())) == 3
    assert rows(db, "SELECT outcome, finish_reason FROM crawls") == [("alarm", "too_many_429")]


def test_layout_change_ends_the_crawl_with_exit_3_and_keeps_the_page(site, tmp_path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY}, without_blocks=True)
    result = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "hoard: crawl stopped (layout_changed): anime:1 page 1 (https://myanimelist.net/anime/1/"
    )
    assert "no review blocks" in last
    assert len(review_page_requests(site.take_log())) == 1
    assert archived_ids(db) == set()
    assert len(rows(db, "SELECT id FROM pages")) == 1  # kept raw, for a reparse once fixed


def test_mobile_page_ends_the_crawl_with_exit_3(site, tmp_path, mal_fixtures):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY})
    site.serve_file("/anime/1535/*/reviews", mal_fixtures / "mobile-anime-1535-main-2024-05.html")
    result = run_crawl(db, site.url, ["--anime", "1535"], site="mal")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hoard: crawl stopped (mobile_page): anime:1535 page 1")
    assert "mobile" in last
    assert archived_ids(db) == set()
    assert rows(db, "SELECT outcome, finish_reason FROM crawls") == [("alarm", "mobile_page")]


def test_full_mode_marks_gone_and_clears_it_when_they_come_back(site, tmp_path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY})
    assert run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal").returncode == 0
    removed = [5049, 5020]
    site.publish({TITLE: [i for i in FIFTY if i not in removed]})
    result = run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal")
    assert result.returncode == 0, result.stderr
    gone = rows(db, "SELECT review_id FROM reviews WHERE gone_at IS NOT NULL ORDER BY review_id")
    assert gone == [("5020",), ("5049",)]
    assert len(archived_ids(db)) == 50  # never deleted
    site.publish({TITLE: FIFTY})
    assert run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal").returncode == 0
    assert rows(db, "SELECT review_id FROM reviews WHERE gone_at IS NOT NULL") == []


def test_robots_txt_is_obeyed(tmp_path, mal_fixtures):
    db = tmp_path / "archive.db"
    robots = "User-agent: *\nDisallow: /manga/\n"
    with ScratchSite(tmp_path / "site", mal_fixtures, robots_txt=robots) as site:
        site.publish({TITLE: FIFTY[:5], ("manga", 1): FIFTY[:5]})
        result = run_crawl(db, site.url, ["--anime", "1", "--manga", "1"], site="mal")
        log = site.take_log()
    assert [e["path"] for e in log] == ["/robots.txt", "/anime/1/_/reviews"]
    assert archived_ids(db) == {str(i) for i in FIFTY[:5]}
    assert result.returncode == 1  # the forbidden feed counts as failed, not silently empty


def test_500_dropped_connection_and_truncated_body_are_retried_and_lose_nothing(site, tmp_path):
    db = tmp_path / "archive.db"
    site.publish(
        {TITLE: FIFTY},
        faults={
            ("anime", 1, 1): [Fault(kind="500", times=1)],
            ("anime", 1, 2): [Fault(kind="drop", times=1)],
            ("anime", 1, 3): [Fault(kind="truncate", times=1)],
        },
    )
    result = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert result.returncode == 0, result.stderr
    assert archived_ids(db) == {str(i) for i in FIFTY}
    pages = review_page_requests(site.take_log())
    assert [(p["query"][-3:], p["fault"]) for p in pages] == [
        ("p=1", "500"),
        ("p=1", None),
        ("p=2", "drop"),
        ("p=2", None),
        ("p=3", "truncate"),
        ("p=3", None),
    ]
    # Only whole bodies reach the parser and the archive.
    assert len(rows(db, "SELECT id FROM pages")) == 3


def test_a_page_that_keeps_failing_makes_exit_1_and_keeps_the_rest(site, tmp_path):
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY}, faults={("anime", 1, 2): [Fault(kind="500")]})
    result = run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal")
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1].startswith("hoard: 1 request(s) or item(s) failed")
    )
    assert archived_ids(db) == {str(i) for i in FIFTY[:20]}
    assert rows(db, "SELECT review_id FROM reviews WHERE gone_at IS NOT NULL") == []
    assert rows(db, "SELECT outcome FROM crawls") == [("partial",)]


def test_recent_listing_is_walked_then_updated_with_one_request(site, tmp_path):
    db = tmp_path / "archive.db"
    listing = list(range(9030, 9000, -1))  # two pages: 20 + 10
    site.publish({}, listings={"anime": listing})
    first = run_crawl(db, site.url, ["--recent", "anime"], site="mal")
    assert first.returncode == 0, first.stderr
    pages = review_page_requests(site.take_log())
    assert [(p["path"], p["query"]) for p in pages] == [
        ("/reviews.php", "t=anime"),
        ("/reviews.php", "t=anime&p=2"),
    ]
    assert archived_ids(db) == {str(i) for i in listing}
    subjects = rows(db, "SELECT DISTINCT subject_type, subject_id, subject_title FROM reviews")
    assert subjects == [("anime", "1", "Cowboy Bebop")]  # from each block's title link
    site.publish({}, listings={"anime": [9032, 9031, *listing]})
    update = run_crawl(db, site.url, ["--recent", "anime"], site="mal")
    assert update.returncode == 0, update.stderr
    assert len(review_page_requests(site.take_log())) == 2  # page 1 had 2 new, page 2 is known
    assert {"9031", "9032"} <= archived_ids(db)


def test_an_empty_site_wide_listing_is_a_layout_change(site, tmp_path):
    db = tmp_path / "archive.db"
    # One page, no "More Reviews" link: only knowing a listing is never empty can tell.
    site.publish({}, listings={"anime": list(range(9010, 9000, -1))}, without_blocks=True)
    result = run_crawl(db, site.url, ["--recent", "anime"], site="mal")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("hoard: crawl stopped (layout_changed): recent:anime page 1")


def test_a_redirect_to_another_title_fails_the_feed_and_marks_nothing_gone(site, tmp_path):
    """Gone means really gone: a full walk of anime 1 answered by anime 5114's reviews (a 301)
    keeps those reviews under the page that served them, but marks none of anime 1's gone."""
    db = tmp_path / "archive.db"
    site.publish({TITLE: FIFTY, ("anime", 5114): list(range(9020, 9000, -1))})
    assert run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal").returncode == 0
    other = "/anime/5114/_/reviews?sort=newest&preliminary=on&spoiler=on&p=1"
    site.routes.insert(
        0, Route(path="/anime/1/*/reviews", file="", query={"p": "1"}, redirect=site.url + other)
    )
    write_site(site.directory, site.routes, site.robots_txt)
    site.reload()
    result = run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal")
    assert result.returncode == 1, result.stderr
    said = [line for line in result.stderr.splitlines() if "another subject's reviews" in line]
    assert len(said) == 1 and f"after a redirect to https://myanimelist.net{other}" in said[0]
    assert rows(db, "SELECT count(*) FROM reviews WHERE gone_at IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT subject_id, count(*) FROM reviews GROUP BY subject_id ORDER BY 1") == [
        ("1", 50),
        ("5114", 20),
    ]
    served_by = rows(
        db,
        "SELECT DISTINCT p.url FROM reviews r JOIN pages p ON p.id = r.page_id "
        "WHERE r.subject_id = '5114'",
    )
    assert served_by == [("https://myanimelist.net" + other,)]
    feeds = rows(db, "SELECT json_extract(feeds, '$.\"anime:1\".complete') FROM crawls "
                     "ORDER BY id DESC LIMIT 1")  # fmt: skip
    assert feeds == [(0,)]


@pytest.mark.parametrize(
    ("base", "what"),
    [("http://127.0.0.1:{port}", "refused"), ("http://nowhere.invalid", "no such host")],
)
def test_a_dead_host_is_one_line_exit_69_and_fast(tmp_path: Path, base: str, what: str) -> None:
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    result = run_crawl(tmp_path / "a.db", base.format(port=port), ["--anime", "1"], site="mal")
    assert result.returncode == 69, result.stderr
    assert time.monotonic() - started < 15  # no minute of retries
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hoard: crawl stopped (host_unreachable): cannot reach ")
    assert f"({what})" in lines[0] and "Traceback" not in result.stderr
