"""The MAL spider's configuration: feeds from arguments, paging URLs, refusals; and both spellings
of a crawl (`scrapy crawl mal -a ...` and `hoard crawl mal ...`)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reviewhoard.parsers import PageError, ParsedPage
from reviewhoard.replay.harness import FAST_SETTINGS, review_page_requests
from reviewhoard.sites.myanimelist.feeds import title_reviews_url
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from reviewhoard.spiders.named import SPIDERS
from reviewhoard.spiders.review import page_error_reason

MalSpider = SPIDERS["mal"]


def mal_feeds(args):
    return [p.feed for p in MalSpider(**args).feeds.values()]


ROOT = Path(__file__).resolve().parent.parent


def test_feeds_from_arguments():
    feeds = mal_feeds({"anime": "1, 5114", "manga": "1", "recent": "anime", "user": "Some_One"})
    assert [
        (f.key, f.start_url, f.subject_type, f.subject_id, f.expects_reviews) for f in feeds
    ] == [
        ("anime:1", title_reviews_url("anime", 1), "anime", "1", False),
        ("anime:5114", title_reviews_url("anime", 5114), "anime", "5114", False),
        ("manga:1", title_reviews_url("manga", 1), "manga", "1", False),
        ("recent:anime", "https://myanimelist.net/reviews.php?t=anime", None, None, True),
        ("user:Some_One", "https://myanimelist.net/profile/Some_One/reviews", None, None, False),
    ]
    assert title_reviews_url("manga", 1, 3) == (
        "https://myanimelist.net/manga/1/_/reviews?sort=newest&preliminary=on&spoiler=on&p=3"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"anime": "cowboy"}, "anime ids are numbers (as in /anime/1/...), not 'cowboy'"),
        ({"recent": "films"}, "recent is one of anime, manga, not 'films'"),
        ({"user": "a b"}, "'a b' is not a MyAnimeList user name"),
    ],
)
def test_bad_arguments_are_refused_by_name(args, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        mal_feeds(args)


def test_spider_needs_a_feed_and_a_known_mode():
    with pytest.raises(ValueError, match="nothing to crawl: pass -a anime=ID"):
        MalSpider()
    with pytest.raises(ValueError, match="mode must be one of update, full, not 'fast'"):
        MalSpider(anime="1", mode="fast")
    assert MalSpider(anime="1").mode == "update"


def test_next_page_keeps_our_filters_not_the_sites_link():
    spider = MalSpider(anime="1", user="Some_One")
    title, user = spider.feeds["anime:1"], spider.feeds["user:Some_One"]
    link = (
        "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews?sort=mostvoted&filter_check="
        "&preliminary=on&spoiler=off&p=2"
    )
    assert MalSpider.site().next_page(
        title.feed, ParsedPage(next_url=link), 1
    ) == title_reviews_url("anime", 1, 2)
    assert MalSpider.site().next_page(title.feed, ParsedPage(next_url=None), 1) is None
    other = "https://myanimelist.net/profile/Some_One/reviews?p=2"
    assert MalSpider.site().next_page(user.feed, ParsedPage(next_url=other), 1) == other


def test_page_error_reasons():
    mobile = PageError("mobile layout: review text is truncated and scores are missing")
    assert page_error_reason(mobile) == "mobile_page"
    assert page_error_reason(PageError("no review blocks in a layout it does not know")) == (
        "layout_changed"
    )
    assert page_error_reason(PageError("blocked: a Cloudflare challenge page")) == "blocked"


def scrapy_crawl(site: ScratchSite, db: Path, *args: str) -> list[str]:
    """`scrapy crawl mal -a ARG...` from the project folder; the pages it asked the site for."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "mal"]
    for arg in args:
        cmd += ["-a", arg]
    for name, value in {**FAST_SETTINGS, "MAL_BASE_URL": site.url, "HOARD_DB": str(db)}.items():
        cmd += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if k not in ("HOARD_DB", "MAL_BASE_URL")}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [p["query"][-3:] for p in review_page_requests(site.take_log())]


@pytest.mark.slow
def test_scrapy_crawl_spelling_and_catch_up(tmp_path: Path, mal_fixtures: Path):
    db = tmp_path / "archive.db"
    with ScratchSite(tmp_path / "site", mal_fixtures) as site:
        site.publish({("anime", 1): list(range(1030, 1000, -1))})
        assert scrapy_crawl(site, db, "anime=1", "mode=full") == ["p=1", "p=2"]
        assert scrapy_crawl(site, db, "anime=1") == ["p=1"]  # update: all known, stop
        # A feed an earlier run left unfinished is walked whole, though page 1 is known.
        assert scrapy_crawl(site, db, "anime=1", "catch_up=anime:1") == ["p=1", "p=2"]
    conn = sqlite3.connect(db)
    try:
        ids = {r for (r,) in conn.execute("SELECT review_id FROM reviews")}
        page_count = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    finally:
        conn.close()
    assert ids == {str(i) for i in range(1030, 1000, -1)}
    assert page_count == 2


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["crawl", "mal"], "hoard: nothing to crawl: pass --anime IDS, --manga IDS"),
        (
            ["crawl", "mal", "--anime", "1", "-s", "ITEM_PIPELINES={}"],
            "hoard: -s ITEM_PIPELINES: setting ITEM_PIPELINES cannot be changed: the archive's "
            "writer is the crawl's only pipeline",
        ),
        (
            ["crawl", "mal", "--anime", "x1"],
            "hoard: myanimelist anime=x1 mode=update: anime ids are numbers",
        ),
        (
            ["crawl", "mal", "--anime", "1", "-s", "NOEQUALS"],
            "hoard: -s 'NOEQUALS': write a Scrapy",
        ),
        (["crawl", "mal", "--anime", "1", "--base-url", "ftp://x"], "hoard: --base-url 'ftp://x'"),
        (
            ["crawl", "mal", "--anime", "1", "-s", "USER_AGENT=Mozilla/5.0 (iPhone; Mobile)"],
            "hoard: myanimelist anime=1 mode=update: USER_AGENT 'Mozilla/5.0 (iPhone; Mobile)' "
            "looks "
            "like a phone (Mobile); sites send phones truncated mobile pages",
        ),
    ],
)
def test_hoard_crawl_usage_errors_are_one_line_exit_2(tmp_path: Path, argv, line):
    done = subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", *argv, "--db", str(tmp_path / "a.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(line) and done.stderr.count("\n") == 1
    assert not (tmp_path / "a.db").exists()
