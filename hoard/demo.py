"""`make demo`: the real crawl, offline. Saved MyAnimeList pages are served by a local replay site,
the real spider crawls it into ./archive.db, and the archive's stats are printed.

Run with `python -m hoard.demo [--db PATH]`; the saved pages are read from
$REVIEW_FIXTURES/myanimelist (default ../shared/fixtures/myanimelist).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from hoard.crawling import CrawlSpec, run_crawls
from replay.server import ReplaySite

ROOT = Path(__file__).resolve().parent.parent
DEMO_FEEDS = {"anime": "1,32995,44511", "manga": "1"}
"""Cowboy Bebop (new layout), Yuri on Ice (old layout), Chainsaw Man (no reviews yet), Monster."""
DEMO_SETTINGS = {"DOWNLOAD_DELAY": "0.1", "AUTOTHROTTLE_ENABLED": "False"}


def fixtures_dir() -> Path:
    """Where the saved MyAnimeList pages are."""
    root = os.environ.get("REVIEW_FIXTURES") or str(ROOT.parent / "shared" / "fixtures")
    return Path(root) / "myanimelist"


def print_stats(db: str) -> None:
    """`hoard stats` for the archive (or the archive's own counts if that command is missing)."""
    shown = subprocess.run(
        [sys.executable, "-m", "hoard", "stats", "--db", db], check=False, capture_output=True
    )
    if shown.returncode == 0:
        sys.stdout.write(shown.stdout.decode("utf-8", "replace"))
        return
    from archive.queries import stats
    from archive.store import read_connection

    conn = read_connection(db)
    try:
        for key, value in stats(conn).items():
            print(f"  {key}: {value}")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hoard.demo", description=__doc__)
    parser.add_argument("--db", default="archive.db", help="archive file (default ./archive.db)")
    db = parser.parse_args(argv).db
    pages = fixtures_dir()
    if not pages.is_dir():
        print(f"demo: saved pages not found at {pages}; set $REVIEW_FIXTURES", file=sys.stderr)
        return 2
    with ReplaySite(pages) as site:
        print(f"Replay site of {pages} at {site.url} (the real site is never contacted).")
        print(
            f"Crawling anime {DEMO_FEEDS['anime']} and manga {DEMO_FEEDS['manga']} with the real "
            f"spider into {db}; delays are set low (DOWNLOAD_DELAY="
            f"{DEMO_SETTINGS['DOWNLOAD_DELAY']} s) because the site is local - a real crawl "
            "waits at least 2 s between requests.",
            flush=True,
        )
        specs = [CrawlSpec("mal", {**DEMO_FEEDS, "mode": "update"})]
        overrides = {**DEMO_SETTINGS, "MAL_BASE_URL": site.url}
        result = run_crawls(db, specs, overrides, "python -m hoard.demo")
    print(result.summary_line())
    reason = result.reason_line()
    if reason:
        print(f"demo: {reason}", file=sys.stderr)
    print(f"\nhoard stats --db {db}:")
    print_stats(db)
    print(
        f"\nOpen the archive in Datasette: .venv/bin/hoard serve --db {db}\n"
        f"(or: .venv/bin/datasette {db}). Run `make demo` again: an update run fetches one page "
        "per title and finds nothing new."
    )
    return result.exit_status()


if __name__ == "__main__":
    sys.exit(main())
