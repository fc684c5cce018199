"""Crawl benchmark: how fast `hoard crawl` walks a replay site, next to `scrapy bench` on the same
machine in the same run, and how many requests update runs need.

Bars: crawl pages/s at least half of `scrapy bench`'s (parsing and storing must not be the
bottleneck); an update run with nothing new asks 1 page per feed; with k new reviews at most
ceil(k/20) + 1 pages per feed.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from replay.harness import ScratchSite, review_page_requests, run_crawl

ROOT = Path(__file__).resolve().parent.parent
TITLES = 4
PAGES_PER_TITLE = 30
PER_PAGE = 20
BENCH_SECONDS = 8
SUMMARY = re.compile(r"(?P<pages>\d+) page\(s\), (?P<reviews>\d+) review\(s\).* in (?P<s>[\d.]+) s")


def fixtures() -> Path:
    import os

    root = os.environ.get("REVIEW_FIXTURES") or str(ROOT.parent / "shared" / "fixtures")
    return Path(root) / "myanimelist"


def scrapy_bench_rate() -> tuple[float, int, float]:
    """`scrapy bench` (its own local site, tiny pages, 16 at a time): pages/s, pages, seconds."""
    with tempfile.TemporaryDirectory() as scratch:  # outside the project: Scrapy's defaults
        out = subprocess.run(
            [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={BENCH_SECONDS}"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    pages = int(re.search(r"'response_received_count': (\d+)", out.stderr).group(1))  # type: ignore[union-attr]
    seconds = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", out.stderr).group(1))  # type: ignore[union-attr]
    return pages / seconds, pages, seconds


def feed_ids(title: int, count: int, newest: int = 0) -> list[int]:
    """Review ids of one made-up title, newest first (distinct across titles)."""
    top = title * 100_000 + count + newest
    return list(range(top, top - count - newest, -1))


def crawl_rate(site: ScratchSite, db: Path, ids: str) -> tuple[float, int, int, float] | None:
    """A full crawl of the made-up titles: pages/s, pages, reviews, engine seconds."""
    crawl = run_crawl(db, site.url, ["--anime", ids, "--mode", "full"], timeout=600)
    if crawl.returncode != 0:
        print(f"   crawl failed ({crawl.returncode}): {crawl.stderr.strip()[-300:]}")
        return None
    m = SUMMARY.search(crawl.stdout)
    assert m is not None, crawl.stdout
    pages, reviews, seconds = int(m["pages"]), int(m["reviews"]), float(m["s"])
    return pages / seconds, pages, reviews, seconds


def update_requests(site: ScratchSite, db: Path, ids: str, count: int) -> bool:
    """Update runs after 0, 1, 20 and 45 new reviews per title: review pages asked per feed."""
    ok = True
    print(f"\n   {'update run, per feed':34}{'requests':>14}{'bar':>14}")
    added = 0
    for k in (0, 1, 20, 45):
        added += k
        if k:
            site.publish({("anime", t): feed_ids(t, count, newest=added) for t in titles()})
        site.take_log()
        result = run_crawl(db, site.url, ["--anime", ids], timeout=300)
        per_feed = len(review_page_requests(site.take_log())) / TITLES
        limit = 1 if k == 0 else math.ceil(k / PER_PAGE) + 1
        good = result.returncode == 0 and per_feed <= limit
        ok &= good
        label = "nothing changed" if k == 0 else f"{k} new review(s)"
        print(f"   {label:34}{per_feed:>14.1f}{limit:>14}  {'ok' if good else 'OVER BAR'}")
    return ok


def titles() -> range:
    return range(1, TITLES + 1)


def main() -> bool:
    count = PAGES_PER_TITLE * PER_PAGE
    ids = ",".join(str(t) for t in titles())
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        with ScratchSite(scratch / "site", fixtures()) as site:
            site.publish({("anime", t): feed_ids(t, count) for t in titles()})
            measured = crawl_rate(site, scratch / "archive.db", ids)
            if measured is None:
                return False
            rate, pages, reviews, seconds = measured
            bench_rate, bench_pages, bench_seconds = scrapy_bench_rate()
            print(f"   {'':34}{'hoard crawl':>14}{'scrapy bench':>14}")
            print(f"   {'pages':34}{pages:>14}{bench_pages:>14}")
            print(f"   {'seconds (engine)':34}{seconds:>14.1f}{bench_seconds:>14.1f}")
            print(f"   {'pages/s':34}{rate:>14.1f}{bench_rate:>14.1f}")
            print(f"   {'reviews/s (parsed and stored)':34}{reviews / seconds:>14.1f}{'-':>14}")
            print(
                f"   (hoard crawl: {TITLES} titles x {PAGES_PER_TITLE} pages of ~270 KB, 20 "
                "reviews each, delays off; scrapy bench: tiny link pages, nothing parsed)"
            )
            share = rate / bench_rate
            ok = share >= 0.5
            verdict = "ok" if ok else "BELOW BAR"
            print(f"   crawl rate / scrapy bench rate: {share:.2f} (bar >= 0.50) {verdict}")
            ok &= update_requests(site, scratch / "archive.db", ids, count)
    return ok
