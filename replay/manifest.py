"""What the replay site serves: a manifest of routes (path pattern + query -> saved file + faults).

A manifest is JSON (`manifest.json` in the served folder)::

    {
      "robots_txt": "User-agent: *\\nDisallow: /login.php\\n",
      "routes": [
        {"path": "/film/*/reviews", "query": {"p": "1"}, "file": "page-1.html",
         "last_page": false, "status": 200,
         "faults": [{"kind": "429", "retry_after": 2, "times": 1}]}
      ]
    }

A `*` path segment matches any one segment (sites that ignore a title slug); `query` lists the
parameters that must match (others are ignored; a missing `p` counts as page 1). The first matching
route wins. `last_page` removes the page's "More Reviews" links, for a saved first page whose
following pages were never saved. Fault kinds: `delay` (`seconds`, then the page), `429`/`503`
(with `retry_after` seconds, if given), `500`, `drop` (close the connection without answering) and
`truncate` (announce the full length, send half, close); `times` applies a fault to the first N
matching requests only (default: every one). A request gets every due delay, then the first due
fault of the others, in list order: `[503 x1, 500 x1]` answers 503, then 500, then the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MANIFEST_NAME = "manifest.json"
FAULT_KINDS = ("delay", "429", "503", "500", "drop", "truncate")
QUERY_DEFAULTS = {"p": "1"}
DEFAULT_ROBOTS_TXT = "User-agent: *\nDisallow: /login.php\nDisallow: /logout.php\n"


@dataclass(slots=True)
class Fault:
    """One kind of misbehaviour on a route."""

    kind: str
    times: int | None = None
    """Apply to the first N matching requests only; None: to every one."""
    seconds: float = 0.0
    """For `delay`: how long to wait before answering."""
    retry_after: str | None = None
    """For `429`/`503`: the Retry-After header value (seconds or an HTTP date), or None."""

    def to_json(self) -> dict[str, Any]:
        """The fault as its manifest object (unset fields left out)."""
        out: dict[str, Any] = {"kind": self.kind, "times": self.times}
        out.update(seconds=self.seconds or None, retry_after=self.retry_after)
        return {k: v for k, v in out.items() if v is not None}


@dataclass(slots=True)
class Route:
    """Where one saved file is served, and how."""

    path: str
    file: str
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    last_page: bool = False
    faults: list[Fault] = field(default_factory=list)
    redirect: str | None = None
    """Answer 301 to this address instead of serving the file (a site moving a page)."""

    def matches(self, path: str, query: dict[str, str]) -> bool:
        """True when `path` fits the pattern (a `*` segment matches any one) and `query` agrees."""
        want = [s for s in self.path.strip("/").split("/") if s]
        got = [s for s in path.strip("/").split("/") if s]
        if len(want) != len(got) or any(w not in ("*", g) for w, g in zip(want, got, strict=True)):
            return False
        return all(query.get(k, QUERY_DEFAULTS.get(k)) == v for k, v in self.query.items())


@dataclass(slots=True)
class Manifest:
    """The routes of a replay site and its robots.txt."""

    routes: list[Route]
    robots_txt: str = DEFAULT_ROBOTS_TXT

    def find(self, path: str, query: dict[str, str]) -> Route | None:
        """The first route serving `path` with `query`, or None."""
        return next((r for r in self.routes if r.matches(path, query)), None)

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON object `load_manifest` reads."""
        return {
            "robots_txt": self.robots_txt,
            "routes": [
                {
                    "path": r.path,
                    "file": r.file,
                    "query": r.query,
                    "status": r.status,
                    "content_type": r.content_type,
                    "last_page": r.last_page,
                    "faults": [f.to_json() for f in r.faults],
                    **({"redirect": r.redirect} if r.redirect else {}),
                }
                for r in self.routes
            ],
        }


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the problem."""


def parse_manifest(data: dict[str, Any], where: str) -> Manifest:
    """Check and build a Manifest from its JSON object; ManifestError names `where` on mistakes."""
    routes: list[Route] = []
    for n, raw in enumerate(data.get("routes") or []):
        if not isinstance(raw, dict) or "path" not in raw or "file" not in raw:
            raise ManifestError(f"{where}: route {n} needs a 'path' and a 'file'")
        faults = []
        for f in raw.get("faults") or []:
            kind = str(f.get("kind"))
            if kind not in FAULT_KINDS:
                raise ManifestError(
                    f"{where}: route {n} has fault kind {kind!r}; "
                    f"use one of {', '.join(FAULT_KINDS)}"
                )
            retry_after = f.get("retry_after")
            faults.append(
                Fault(
                    kind=kind,
                    times=f.get("times"),
                    seconds=float(f.get("seconds") or 0),
                    retry_after=None if retry_after is None else str(retry_after),
                )
            )
        routes.append(
            Route(
                path=str(raw["path"]),
                file=str(raw["file"]),
                query={str(k): str(v) for k, v in (raw.get("query") or {}).items()},
                status=int(raw.get("status", 200)),
                content_type=str(raw.get("content_type", "text/html; charset=utf-8")),
                last_page=bool(raw.get("last_page", False)),
                faults=faults,
                redirect=str(raw["redirect"]) if raw.get("redirect") else None,
            )
        )
    return Manifest(routes=routes, robots_txt=str(data.get("robots_txt", DEFAULT_ROBOTS_TXT)))


def site_routes(directory: Path) -> list[dict[str, Any]]:
    """Routes for the saved pages of every site found in `directory` (a site's fixtures folder)
    or in its site subfolders (the whole fixtures folder): each site's `replay_routes`, else
    each saved page at the path and query of the URL it came from."""
    from reviewhoard.sites import all_sites

    routes: list[dict[str, Any]] = []
    for site in all_sites().values():
        for folder in (directory, directory / (site.fixtures_folder or site.key)):
            declared = site.replay_routes or [
                _saved_page_route(name, url) for name, url in site.saved_pages.items()
            ]
            found = [
                {**r, "file": str((folder / r["file"]).resolve())}
                for r in declared
                if (folder / r["file"]).is_file()
            ]
            if found:
                routes += found
                break
    return routes


def _saved_page_route(name: str, url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qsl(parts.query)}
    return {"path": parts.path or "/", "file": name, "query": query}


def load_manifest(directory: Path) -> Manifest:
    """The manifest of `directory`: its manifest.json, else the sites' saved pages found there.

    ManifestError when there is neither, or the file is not a valid manifest.
    """
    path = directory / MANIFEST_NAME
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{path}: not readable JSON ({exc}); fix or remove it") from exc
        return parse_manifest(data, str(path))
    routes = site_routes(directory)
    if not routes:
        raise ManifestError(
            f"{directory}: no {MANIFEST_NAME} and no saved pages of a known site; "
            "point at a folder of ../shared/fixtures or write a manifest"
        )
    return parse_manifest({"routes": routes}, f"{directory} (the sites' saved pages)")


def write_manifest(directory: Path, manifest: Manifest) -> Path:
    """Write `manifest` as `directory`/manifest.json (atomically) and return the path."""
    path = directory / MANIFEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest.to_json(), indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
