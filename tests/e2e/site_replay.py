"""A replay site for end-to-end crawls of any site: saved pages (read where they lie, in
../shared/fixtures) and pages a test makes, each at the path a crawl asks for."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewhoard.replay.manifest import Manifest, Route, write_manifest
from reviewhoard.replay.server import ReplaySite

_NEXT_DATA = re.compile(rb'(<script id="__NEXT_DATA__"[^>]*>)(.*?)(</script>)', re.S)


class SiteReplay:
    """`ReplaySite` over `directory`, serving what `serve()` adds; start with `with`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.routes: list[Route] = []
        write_manifest(directory, Manifest(routes=[]))
        self.site = ReplaySite(directory)

    @property
    def url(self) -> str:
        return self.site.url

    def serve(
        self,
        path: str,
        file: Path | None = None,
        *,
        body: bytes | None = None,
        query: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        """Serve a saved file, or bytes made by the test, at `path` (first match wins)."""
        if body is not None:
            file = self.directory / f"made-{len(self.routes)}.bin"
            file.write_bytes(body)
        assert file is not None
        self.routes.append(
            Route(path=path, file=str(file.resolve()), query=query or {},
                  content_type=content_type)
        )  # fmt: skip
        write_manifest(self.directory, Manifest(routes=self.routes))
        self.site.state.reload(force=True)

    def served(self) -> list[str]:
        """The pages asked for since the last call (path?query), robots.txt left out."""
        with urllib.request.urlopen(f"{self.url}/_replay/log?clear=1", timeout=10) as answer:
            log: list[dict[str, Any]] = json.loads(answer.read())
        return [
            e["path"] + (f"?{e['query']}" if e.get("query") else "")
            for e in log
            if e["path"] != "/robots.txt"
        ]

    def __enter__(self) -> SiteReplay:
        self.site.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.site.stop()


def edit_next_data(body: bytes, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """A page with its `__NEXT_DATA__` JSON changed by `edit` (to make a page of a feed)."""
    match = _NEXT_DATA.search(body)
    assert match is not None
    data = json.loads(match.group(2))
    edit(data)
    new = json.dumps(data).encode("utf-8")
    return body[: match.start(2)] + new + body[match.end(2) :]
