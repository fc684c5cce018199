"""Made-up MyAnimeList feeds served on 127.0.0.1, for end-to-end tests, benchmarks and the demo.

`ScratchSite` is a folder of made-up feeds (see `synth`) served by a `ReplaySite`, whose manifest
can be rewritten between runs (new reviews, faults, a layout change).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from reviewhoard.replay.manifest import Fault, Route
from reviewhoard.replay.server import ReplaySite
from reviewhoard.sites.myanimelist.synth import (
    FeedShape,
    PageTemplate,
    load_template,
    site_listing,
    title_tab,
    write_feed,
    write_site,
)

SITE_KEY = "myanimelist"
TEMPLATE_PAGE = "anime-1-reviews-2022-10.html"


class ScratchSite:
    """A replay site over generated feeds in `directory`; start with `with ScratchSite(...)`."""

    def __init__(self, directory: Path, fixtures: Path, robots_txt: str | None = None) -> None:
        self.directory = directory
        self.template: PageTemplate = load_template(fixtures / TEMPLATE_PAGE)
        self.robots_txt = robots_txt
        self.routes: list[Route] = []
        directory.mkdir(parents=True, exist_ok=True)
        write_site(directory, [], robots_txt)
        self.site = ReplaySite(directory)

    @property
    def url(self) -> str:
        return self.site.url

    def publish(
        self,
        feeds: dict[tuple[str, int], list[int]],
        faults: dict[tuple[str, int, int], list[Fault]] | None = None,
        without_blocks: bool = False,
        edited: frozenset[int] = frozenset(),
        listings: dict[str, list[int]] | None = None,
    ) -> None:
        """Serve these feeds from now on: {(type, id): review ids newest first}, with faults
        {(type, id, page): [...]}; `without_blocks` serves them as a redesigned site would;
        the reviews in `edited` carry an edit; `listings` are site-wide lists of new reviews,
        {"anime": ids newest first}."""
        routes: list[Route] = []
        for (subject_type, subject_id), ids in feeds.items():
            shape = title_tab(subject_type, subject_id)
            routes += self._write(ids, shape, without_blocks, edited)
        for kind, ids in (listings or {}).items():
            routes += self._write(ids, site_listing(kind), without_blocks, edited)
        for (subject_type, subject_id, page), page_faults in (faults or {}).items():
            path = f"/{subject_type}/{subject_id}/*/reviews"
            route = next(r for r in routes if r.path == path and r.query == {"p": str(page)})
            route.faults = list(page_faults)
        self.routes = routes
        write_site(self.directory, routes, self.robots_txt)
        self.reload()

    def _write(
        self, ids: list[int], shape: FeedShape, without_blocks: bool, edited: frozenset[int]
    ) -> list[Route]:
        return write_feed(
            self.directory,
            self.template,
            ids,
            shape,
            without_blocks=without_blocks,
            edited=edited,
        )

    def serve_file(self, path: str, file: Path) -> None:
        """Also serve a saved page at `path` (e.g. a mobile page where a reviews tab should be)."""
        self.routes.insert(0, Route(path=path, file=str(file.resolve())))
        write_site(self.directory, self.routes, self.robots_txt)
        self.reload()

    def reload(self) -> None:
        urllib.request.urlopen(f"{self.url}/_replay/reload", timeout=10).read()

    def take_log(self) -> list[dict[str, Any]]:
        """The requests served since the last call (and forget them)."""
        with urllib.request.urlopen(f"{self.url}/_replay/log?clear=1", timeout=10) as answer:
            entries: list[dict[str, Any]] = json.loads(answer.read())
        return entries

    def __enter__(self) -> ScratchSite:
        self.site.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.stop()
