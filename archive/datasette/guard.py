"""Arbitrary SQL, bounded: `hoard serve` keeps Datasette's SQL on (the dashboard's charts run
their queries through it), so what it lets through is limited.

- A query with `sql=` that another web site's page sends (the browser says `Sec-Fetch-Site:
  cross-site`, or an `Origin` that is not this server) is refused with 403: a page the user
  happens to visit cannot make the archive's server run `select zeroblob(1e9)`. The dashboard's
  own requests (same origin) and command-line clients (no such headers) are served.
- Every connection Datasette opens has SQLite's length limit lowered to `MAX_VALUE_BYTES`: no
  text or blob a query makes can be larger ("string or blob too big" instead of gigabytes in
  memory). Datasette's own time limit (`sql_time_limit_ms`) and row limit (`max_returned_rows`)
  bound the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from datasette import hookimpl

MAX_VALUE_BYTES = 32 * 1024 * 1024
"""The largest text or blob a query may make: above any review or stored page (16 MB)."""

Asgi = Callable[[dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]],
                Awaitable[None]]  # fmt: skip


def cross_site(scope: dict[str, Any]) -> bool:
    """Whether a browser sent this request from another site's page."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if origin and origin != "null":
        host = headers.get("host", "")
        return urlsplit(origin).netloc != host
    return False


def wants_sql(scope: dict[str, Any]) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return "sql" in query


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Asgi], Asgi]:
    def wrap(app: Asgi) -> Asgi:
        async def guarded(
            scope: dict[str, Any],
            receive: Callable[..., Awaitable[Any]],
            send: Callable[..., Awaitable[Any]],
        ) -> None:
            if scope.get("type") == "http" and wants_sql(scope) and cross_site(scope):
                body = b"arbitrary SQL from another site's page is refused\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await app(scope, receive, send)

        return guarded

    return wrap
