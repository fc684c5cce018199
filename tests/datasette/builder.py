"""An archive of every site for the Datasette tests: the demo's MyAnimeList history (2018 then
2022: edits, a rename, a new layout) and every other site's saved pages, written in two runs by
the one writer, as `make demo` and `hoard import` would."""

from __future__ import annotations

import os
from pathlib import Path

from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.hoard.demo import NOW, THEN
from reviewhoard.items import Capture
from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import Site, all_sites
from tests.conftest import ROOT, fixtures_dir

SCHEMAORG_PAGES = {
    "book-reviews-plural.html": "https://www.quietshelf.example/books/the-left-hand-of-darkness",
    "product-graph.html": "https://www.northwind-outfitters.example/products/trail-runner-3",
    "film-malformed-block.html": "https://www.reelnotes.example/2024/03/dune-part-two-review/",
}
"""schema.org pages (the tests' own, not shared fixtures) and where they would come from."""

EDITED = ("myanimelist", "144725")
"""A review of the demo that was edited between 2018 and 2022."""
BEBOP = ("myanimelist", "anime", "1")
"""Cowboy Bebop: the demo's title with two versions of reviews."""


def _capture(site: Site, body: bytes, url: str, at: str) -> Capture:
    capture = Capture(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=body,
        fetched_at=at,
        site=site.key,
        parser_version=site.parser.PARSER_VERSION,
        feed=None,
        page=1,
    )
    try:
        parsed = site.parser.parse(body, url)
    except PageError as exc:
        try:  # a follow-up page (Letterboxd's whole text of a cut review)?
            capture.completions = list(site.read_follow_up(body, url))
        except (PageError, NotImplementedError):
            capture.refused = exc.reason
        return capture
    capture.reviews = parsed.reviews
    return capture


def _mal_pages(routes: dict[str, str]) -> list[str]:
    return sorted(set(routes.values()))


def build(db: Path) -> None:
    """Fill `db` (a new file): run 1 is MyAnimeList as it was (the demo's first state), run 2
    MyAnimeList later and every other site's saved pages."""
    sites = all_sites()
    mal = sites["myanimelist"]
    mal_dir = fixtures_dir() / "myanimelist"
    then = ArchiveWriter(str(db), command="hoard crawl mal --anime 1,32995,44511 (test)")
    for name in _mal_pages(THEN):
        url = mal.url_of_saved_page(name) or f"https://myanimelist.net/saved/{name}"
        then.write(_capture(mal, (mal_dir / name).read_bytes(), url, "2018-12-15T10:00:00Z"))
    then.finish()
    now = ArchiveWriter(str(db), command="hoard import saved pages (test)")
    for name in _mal_pages(NOW):
        if name in THEN.values():
            continue
        url = mal.url_of_saved_page(name) or f"https://myanimelist.net/saved/{name}"
        at = "2022-10-01T10:00:00Z" if "2022" in name else "2026-01-20T10:00:00Z"
        now.write(_capture(mal, (mal_dir / name).read_bytes(), url, at))
    for site in sites.values():
        if site.key == "myanimelist":
            continue
        folder = fixtures_dir() / (site.fixtures_folder or site.key)
        for name, url in sorted(site.saved_pages.items()):
            if (folder / name).is_file():
                now.write(_capture(site, (folder / name).read_bytes(), url, "2026-11-30T12:00:00Z"))
    if "schemaorg" in sites:
        pages = ROOT / "tests" / "sites" / "schemaorg" / "pages"
        for name, url in SCHEMAORG_PAGES.items():
            body = (pages / name).read_bytes()
            now.write(_capture(sites["schemaorg"], body, url, "2026-12-01T08:00:00Z"))
    now.finish()
    # A later update that found Letterboxd's feed empty: a run with an alarm, for the runs chart.
    update = ArchiveWriter(str(db), command="hoard update (test)")
    letterboxd = sites["letterboxd"]
    empty = "film-oppenheimer-2023-reviews-rated5-p9999-empty-2026-07.html"
    url = letterboxd.url_of_saved_page(empty) or "https://letterboxd.com/film/oppenheimer-2023/"
    body = (fixtures_dir() / "letterboxd" / empty).read_bytes()
    update.write(_capture(letterboxd, body, url, "2026-12-01T09:00:00Z"))
    update.finish("alarm", alarms=[ALARM])


ALARM = {
    "check": "feed_went_empty",
    "watch": "letterboxd film:oppenheimer-2023",
    "url": "https://letterboxd.com/film/oppenheimer-2023/reviews/",
    "figure": 0,
    "threshold": 1,
    "message": "the feed had 12 reviews last run and none now",
}
"""The alarm the third run raised (the shape `hoard.alarms.Alarm.to_dict` stores)."""


if __name__ == "__main__":  # python -m tests.datasette.builder PATH: an archive to look at
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "datasette-test.db")
    if target.exists():
        os.unlink(target)
    build(target)
    print(target)
