"""`make demo`: the real crawl, offline, and what the archive keeps across time and sites.

Saved pages are served by a local replay site at the paths they came from, and the real spider
crawls it with `hoard crawl` into ./archive.db. MyAnimeList twice: first the site as it was in
2017-2018 (old layout), then as it was later (2022 redesign, new reviews, edits, a renamed
author); the archive keeps both versions of the edited reviews and the author's old name, and
treats the layout change alone as no edit. Then a book's reviews from Goodreads (crawled), and a
film's from Letterboxd, whose terms forbid crawling: its saved page is imported instead, as the
refusal tells users to. Run again on an existing archive, the demo makes one update run, which
fetches one page per feed and finds nothing new.

Run with `python -m hoard.demo [--db PATH]`; the saved pages are read from $REVIEW_FIXTURES
(default ../shared/fixtures) and never copied.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from reviewhoard.replay.manifest import MANIFEST_NAME
from reviewhoard.replay.server import ReplaySite

ROOT = Path(__file__).resolve().parent.parent
DEMO_SETTINGS = {"DOWNLOAD_DELAY": "0.1", "AUTOTHROTTLE_ENABLED": "False"}
"""Low delays, for a replay site on this machine only: a real crawl waits at least 2 s."""

THEN: dict[str, str] = {
    "/anime/1/*/reviews": "anime-1-reviews-2018-12-old.html",
    "/anime/32995/*/reviews": "anime-32995-reviews-2017-old.html",
    "/anime/44511/*/reviews": "anime-44511-reviews-2021-old-empty.html",
}
"""The site as it was: Cowboy Bebop (Dec 2018), Yuri!!! on Ice (2017), Chainsaw Man (no reviews)."""
NOW: dict[str, str] = {
    **THEN,
    "/anime/1/*/reviews": "anime-1-reviews-2022-10.html",
    "/manga/1/*/reviews": "manga-1-reviews-2026-01.html",
}
"""Later: Cowboy Bebop after the 2022 redesign (edits, a rename), and Monster (2026)."""
THEN_FEEDS = ["--anime", "1,32995,44511"]
NOW_FEEDS = [*THEN_FEEDS, "--manga", "1"]
BOOK = "14476341"
BOOK_PAGE = "goodreads/book-14476341-reviews-2025-04.html"
"""The Great Gatsby's reviews on Goodreads (April 2025): 30 reviews, one without an address."""
FILM_PAGE = "letterboxd/film-oppenheimer-2023-reviews-2026-07.html"
FILM_URL = "https://letterboxd.com/film/oppenheimer-2023/reviews/"
"""Oppenheimer's newest reviews on Letterboxd (July 2026), imported: the site forbids crawling."""


def fixtures_dir() -> Path:
    """Where the saved pages are (a folder per site)."""
    return Path(os.environ.get("REVIEW_FIXTURES") or str(ROOT.parent / "shared" / "fixtures"))


def serve_state(site_dir: Path, pages: Path, routes: dict[str, str]) -> None:
    """Point the replay site's manifest at one state of the site (it reloads on change)."""
    manifest = {
        "routes": [
            # Only first pages were saved: their "More Reviews" links go (last_page).
            {
                "path": path,
                "file": str(pages / "myanimelist" / name),
                "query": {"p": "1"},
                "last_page": True,
            }
            for path, name in routes.items()
        ]
        + [{"path": f"/book/show/{BOOK}/reviews", "file": str(pages / BOOK_PAGE)}]
    }
    (site_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def crawl(db: str, base_url: str, feeds: list[str], site: str = "mal") -> int:
    """`hoard crawl SITE FEEDS` against the replay site, as a user would type it; its exit
    status."""
    cmd = [sys.executable, "-m", "reviewhoard.hoard", "crawl", site, *feeds, "--db", db]
    cmd += ["--base-url", base_url]
    for name, value in DEMO_SETTINGS.items():
        cmd += ["-s", f"{name}={value}"]
    shown = " ".join(["hoard", *cmd[3:]])
    print(f"\n$ {shown}", flush=True)
    return subprocess.run(cmd, check=False).returncode


def hoard(*args: str) -> int:
    """Run another `hoard` command, its output straight to ours."""
    print(f"\n$ hoard {' '.join(args)}", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", *args], check=False
    ).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hoard.demo", description=__doc__)
    parser.add_argument("--db", default="archive.db", help="archive file (default ./archive.db)")
    db = parser.parse_args(argv).db
    pages = fixtures_dir()
    if not (pages / "myanimelist").is_dir():
        print(f"demo: saved pages not found at {pages}; set $REVIEW_FIXTURES", file=sys.stderr)
        return 2
    fresh = not Path(db).exists()
    statuses: list[int] = []
    with tempfile.TemporaryDirectory(prefix="hoard-demo-") as tmp:
        site_dir = Path(tmp)
        serve_state(site_dir, pages, THEN if fresh else NOW)
        with ReplaySite(site_dir) as site:
            print(
                f"Replay site of the saved pages in {pages} at {site.url}; the real sites are "
                "never contacted. Delays are set low (DOWNLOAD_DELAY="
                f"{DEMO_SETTINGS['DOWNLOAD_DELAY']} s) because the site is local: a real crawl "
                "waits at least 2 s between requests.",
                flush=True,
            )
            if fresh:
                print(
                    "\n1. The site as it was in 2017-2018 (old layout: sub-scores, helpful votes)."
                )
                statuses.append(crawl(db, site.url, THEN_FEEDS))
                serve_state(site_dir, pages, NOW)
                print(
                    "\n2. The site later: the 2022 redesign (reactions, tags), new reviews, two "
                    "edited reviews and a renamed author on Cowboy Bebop, and a manga."
                )
            else:
                print(f"\n{db} exists: one update run, which should find nothing new.")
            statuses.append(crawl(db, site.url, NOW_FEEDS))
            if fresh:
                print("\n3. Another site: a book's reviews on Goodreads (30 a page, all it shows).")
            statuses.append(crawl(db, site.url, ["--book", BOOK], site="goodreads"))
    if fresh:
        print(
            "\n4. Letterboxd's terms forbid crawling it, so `hoard crawl letterboxd` refuses; "
            "its saved page is imported instead (cut reviews stay marked text_truncated)."
        )
        statuses.append(hoard("import", str(pages / FILM_PAGE), "--url", FILM_URL, "--db", db))
    hoard("stats", "--db", db)
    print(
        "\nThe layout change alone made no new versions; the two edited reviews have two each "
        "(`edited reviews` above), and the renamed author keeps the old name.\n"
        f"Browse it in Datasette: .venv/bin/hoard serve --db {db}   then open first:\n"
        "  http://127.0.0.1:8001/-/dashboards/reviews          the dashboard: reviews per month "
        "per site, a title's ratings, the most edited reviews, the runs\n"
        "  http://127.0.0.1:8001/-/review/myanimelist/144725   an edited review: both versions "
        "as a word diff, the author's former name, reactions over time\n"
        f"  http://127.0.0.1:8001/{Path(db).stem}/edited_reviews        every edited review, each "
        "opening its diffs\n"
        f"Run `make demo` again: with {db} in place it makes one update run, one page per feed."
    )
    return max(statuses)


if __name__ == "__main__":
    sys.exit(main())
