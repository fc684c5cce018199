"""The replay site: saved pages served over HTTP on 127.0.0.1, with fault injection.

`ReplaySite(directory)` serves the files of `directory` at the paths its manifest maps them to
(see `replay.manifest`), answers `/robots.txt`, keeps a log of every request, and misbehaves on
request (delay, 429/503 with Retry-After, 500, dropped connection, truncated body).

Control paths, for tests and people (never logged):
  GET /_replay/log      the request log as JSON: [{"time", "method", "path", "query", "status",
                        "fault", "user_agent"}, ...]; `?clear=1` empties it after answering
  GET /_replay/reload   read manifest.json again now and reset the fault counters
The manifest is also re-read whenever manifest.json changes on disk.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from reviewhoard.replay.manifest import MANIFEST_NAME, Fault, Manifest, Route, load_manifest

MORE_REVIEWS_LINK = re.compile(rb"<a\b[^>]*>\s*More Reviews\s*</a>", re.IGNORECASE)


def drop_more_reviews_links(body: bytes) -> bytes:
    """The page without its "More Reviews" links: the last page of its feed."""
    return MORE_REVIEWS_LINK.sub(b"", body)


class _State:
    """What the handler threads share: manifest, fault counters, log, file cache."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.manifest: Manifest = load_manifest(directory)
        self.fault_hits: dict[tuple[int, int], int] = {}
        self.stamp = self._manifest_stamp()
        self.files: dict[str, bytes] = {}

    def _manifest_stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.directory / MANIFEST_NAME).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def reload(self, force: bool = False) -> None:
        """Re-read the manifest when it changed on disk (or when forced); reset fault counters."""
        stamp = self._manifest_stamp()
        with self.lock:
            if force or stamp != self.stamp:
                self.manifest = load_manifest(self.directory)
                self.fault_hits.clear()
                self.files.clear()
                self.stamp = stamp

    def body_of(self, route: Route) -> bytes:
        """The bytes a route serves (cached until the manifest changes)."""
        with self.lock:
            cached = self.files.get(route.file)
        if cached is None:
            cached = (self.directory / route.file).read_bytes()
            if route.last_page:
                cached = drop_more_reviews_links(cached)
            with self.lock:
                self.files[route.file] = cached
        return cached

    def due_faults(self, route_index: int, route: Route) -> list[Fault]:
        """The faults that apply to this request of the route, counted as used: every due delay,
        then the first due answer-changing fault (so `503 x1, 500 x1` gives 503, 500, page)."""
        due = []
        with self.lock:
            for n, fault in enumerate(route.faults):
                hits = self.fault_hits.get((route_index, n), 0)
                if fault.times is None or hits < fault.times:
                    self.fault_hits[(route_index, n)] = hits + 1
                    due.append(fault)
                    if fault.kind != "delay":
                        break
        return due

    def arrive(self, handler: BaseHTTPRequestHandler) -> dict[str, Any]:
        """Log a request as it arrives (so the log is in arrival order, whatever thread answers
        first): when, what, who asked (User-Agent); `settle` adds what it got."""
        parts = urlsplit(handler.path)
        entry = {"time": time.time(), "method": handler.command, "path": parts.path}
        entry.update(query=parts.query, status=None, fault=None)
        entry["user_agent"] = handler.headers.get("User-Agent", "")
        with self.lock:
            self.log.append(entry)
        return entry

    def settle(self, entry: dict[str, Any], status: int, fault: str | None) -> None:
        """Note the answer a logged request got (0 for a dropped connection)."""
        with self.lock:
            entry.update(status=status, fault=fault)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reviewhoard-replay/1"
    state: _State  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is kept in memory and served at /_replay/log."""

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith("/_replay/"):
            self._control(parts.path, dict(parse_qsl(parts.query)))
            return
        entry = self.state.arrive(self)
        self.state.reload()
        if parts.path == "/robots.txt":
            self.state.settle(entry, 200, None)
            self._send(200, self.state.manifest.robots_txt.encode(), "text/plain; charset=utf-8")
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        manifest = self.state.manifest
        route = manifest.find(parts.path, query)
        if route is None:
            self.state.settle(entry, 404, None)
            self._send(404, b"not in the replay manifest\n", "text/plain; charset=utf-8")
            return
        self._serve(route, manifest.routes.index(route), entry)

    def _serve(self, route: Route, index: int, entry: dict[str, Any]) -> None:
        """Answer with the route's page, or misbehave as its due faults say; the log entry is
        settled before anything is sent, so a client that got an answer finds it logged."""
        if route.redirect:
            self.state.settle(entry, 301, None)
            self._send(301, b"", "text/plain", {"Location": route.redirect})
            return
        body = self.state.body_of(route)
        for fault in self.state.due_faults(index, route):
            if fault.kind == "delay":
                time.sleep(fault.seconds)
                continue
            if fault.kind in ("429", "503", "500"):
                self.state.settle(entry, int(fault.kind), fault.kind)
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(int(fault.kind), b"slow down\n", "text/plain", headers)
                return
            if fault.kind == "drop":
                self.state.settle(entry, 0, "drop")
                self.close_connection = True
                return
            if fault.kind == "truncate":
                self.state.settle(entry, route.status, "truncate")
                self._send(route.status, body[: len(body) // 2], route.content_type,
                           length=len(body))  # fmt: skip
                self.close_connection = True
                return
        self.state.settle(entry, route.status, None)
        self._send(route.status, body, route.content_type)

    def _control(self, path: str, params: dict[str, str]) -> None:
        if path == "/_replay/log":
            with self.state.lock:
                body = json.dumps(self.state.log).encode()
                if params.get("clear"):
                    self.state.log.clear()
            self._send(200, body, "application/json")
        elif path == "/_replay/reload":
            self.state.reload(force=True)
            self._send(200, b"reloaded\n", "text/plain")
        else:
            self._send(404, b"unknown control path\n", "text/plain")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class ReplaySite:
    """A replay site on 127.0.0.1 serving `directory` (with manifest.json, or the MAL fixtures).

    Use as a context manager (serves from a background thread) or call `serve_forever()`.
    `port=0` picks a free port; `url` says where it listens.
    """

    def __init__(self, directory: Path | str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.directory = Path(directory)
        self.state = _State(self.directory)
        handler = type("ReplayHandler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:8765`."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReplaySite:
        """Serve from a background thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self.httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()

    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log."""
        with self.state.lock:
            return list(self.state.log)

    def __enter__(self) -> ReplaySite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
