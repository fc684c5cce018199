"""`hoard serve`: browse and query the archive in Datasette: the dashboard, review pages with
their edits, search with snippets, facets and canned queries."""

from __future__ import annotations

import errno
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

import click

from reviewhoard.archive.metadata import DASHBOARD, datasette_metadata
from reviewhoard.archive.store import Archive
from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.commands._archive import require_archive
from reviewhoard.hoard.errors import HoardError
from reviewhoard.hoard.options import db_option

SETTINGS: dict[str, int | bool] = {
    "sql_time_limit_ms": 5000,
    "facet_time_limit_ms": 1000,
    "truncate_cells_html": 300,
    "suggest_facets": False,
}
"""Datasette settings `hoard serve` uses: time for the dashboard's queries over a large
archive; no cell longer than 300 characters in a table (whole texts are on review pages); no
facet suggestions (a query per column: 3.5 s of the reviews page's 6 s on 200,000 reviews; the
archive's useful facets are set, and any column can still be faceted from its menu)."""


def datasette_args(db_path: str, metadata_path: str, host: str, port: int) -> list[str]:
    """The `datasette serve` arguments for the archive."""
    args = ["serve", db_path, "--metadata", metadata_path, "--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        args += ["--setting", name, shown]
    return args


def register_plugin() -> None:
    """Register the archive's Datasette plugin (review pages, links, snippets) unless Datasette
    found it already (installed with the package, by its `datasette` entry point)."""
    from datasette.plugins import pm

    import reviewhoard.archive.datasette as plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="reviewhoard")


def check_address(host: str, port: int) -> None:
    """One line, exit 2, when `host:port` cannot be listened on (taken, or not this machine's
    address), before Datasette starts: its server would print a log and exit 3, the alarm
    status. Binds as that server does (SO_REUSEADDR), then lets go."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise HoardError(
            f"cannot serve on {host}:{port}: no such address ({exc}); check --host",
            exitcodes.ADDRESS_UNUSABLE,
        ) from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "the port is in use (another hoard serve?); pass another --port"
            elif exc.errno in (errno.EACCES, errno.EPERM):
                why = "not allowed to listen there (ports below 1024 need root); pass --port 8001"
            else:
                why = f"{exc.strerror}; check --host and --port"
            raise HoardError(
                f"cannot serve on {host}:{port}: {why}", exitcodes.ADDRESS_UNUSABLE
            ) from None


def write_metadata(metadata: dict[str, Any], path: Path) -> None:
    """Write Datasette's metadata for the archive to `path` (JSON)."""
    path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@click.command(
    "serve",
    epilog="\b\nExamples:\n  hoard serve                      then open http://127.0.0.1:8001/\n"
    "  hoard serve --db mal.db --port 9000\n"
    "  hoard serve --write-metadata archive-metadata.json\n"
    "                                   then: datasette archive.db -m archive-metadata.json\n"
    "  curl 'http://127.0.0.1:8001/archive/reviews.json?_search=bebop&_shape=array'\n\n"
    + exitcodes.EPILOG,
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--write-metadata",
    "metadata_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write Datasette's metadata for the archive (descriptions, facets, queries, the "
    "dashboard) to this file and exit, for `datasette ARCHIVE -m FILE`.",
)
def command(db_path: str, host: str, port: int, metadata_file: Path | None) -> int:
    """Serve the archive with Datasette until interrupted (Ctrl-C).

    Pages to open first: the dashboard (/-/dashboards/reviews: reviews per month per site, a
    title's ratings, the most edited reviews, the runs) and a review's page
    (/-/review/SITE/ID: its text, every edit as a word diff, reactions over time, the raw
    page). The reviews table has search with snippets, facets (site, type, title, rating,
    recommendation, tags) and described columns; canned queries: search, a title's reviews,
    rating histogram and ratings over time, edited reviews, newest reviews. The archive is
    upgraded to the current layout first; a crawl may keep writing meanwhile. A --port in use
    (or a --host that is not this machine's) is one line and exit 2, before anything starts.
    """
    require_archive(db_path)
    Archive(db_path).close()  # migrate an older archive before Datasette reads it
    metadata = datasette_metadata(Path(db_path).stem)
    if metadata_file is not None:
        try:
            write_metadata(metadata, metadata_file)
        except OSError as exc:
            raise HoardError(f"cannot write {metadata_file} ({exc})") from None
        click.echo(
            f"wrote {metadata_file}; serve it with: datasette {db_path} -m {metadata_file}\n"
            f"(the database must keep the name {Path(db_path).stem!r}: the metadata names it)"
        )
        return exitcodes.OK
    from datasette.cli import cli as datasette_cli

    check_address(host, port)
    register_plugin()
    handle, metadata_path = tempfile.mkstemp(prefix="hoard-datasette-", suffix=".json")
    os.close(handle)
    click.echo(
        f"Open http://{host}:{port}/-/dashboards/{DASHBOARD} (the dashboard) or "
        f"http://{host}:{port}/{Path(db_path).stem}/edited_reviews (edited reviews, each "
        "opening its word diffs)",
        err=True,
    )
    try:
        write_metadata(metadata, Path(metadata_path))
        datasette_cli.main(
            args=datasette_args(db_path, metadata_path, host, port),
            prog_name="hoard serve",
            standalone_mode=False,
        )
    except OSError as exc:
        raise HoardError(
            f"cannot serve on {host}:{port} ({exc}); try another --port",
            exitcodes.ADDRESS_UNUSABLE,
        ) from None
    except SystemExit as exc:
        if exc.code in (None, 0):
            return exitcodes.OK
        # Taken between the check and the start: the server logged why and exits 3 (startup
        # failure); say it in one line, with the documented status.
        raise HoardError(
            f"cannot serve on {host}:{port} (the server could not start; see above); "
            "try another --port",
            exitcodes.ADDRESS_UNUSABLE,
        ) from None
    finally:
        os.unlink(metadata_path)
    return exitcodes.OK
