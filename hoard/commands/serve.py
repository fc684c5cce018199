"""`hoard serve`: browse and query the archive in Datasette, with search, facets and queries."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from archive.metadata import datasette_metadata
from archive.store import Archive
from hoard import exitcodes
from hoard.commands._archive import require_archive
from hoard.errors import HoardError
from hoard.options import db_option


def datasette_args(db_path: str, metadata_path: str, host: str, port: int) -> list[str]:
    """The `datasette serve` arguments for the archive."""
    return [
        "serve",
        db_path,
        "--metadata",
        metadata_path,
        "--host",
        host,
        "--port",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        "5000",
        "--setting",
        "facet_time_limit_ms",
        "1000",
    ]


@click.command(
    "serve",
    epilog="\b\nExamples:\n  hoard serve                      then open http://127.0.0.1:8001/\n"
    "  hoard serve --db mal.db --port 9000\n"
    "  curl 'http://127.0.0.1:8001/archive/reviews.json?_search=bebop&_shape=array'\n\n"
    + exitcodes.EPILOG,
)
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def command(db_path: str, host: str, port: int) -> int:
    """Serve the archive with Datasette until interrupted (Ctrl-C).

    The reviews table has full-text search (text, title, author), facets on site,
    recommendation and rating, and described columns; canned queries answer: reviews of a
    title, newest reviews, edited reviews with their versions, a title's rating histogram.
    The archive is upgraded to the current layout first; a crawl may keep writing meanwhile.
    """
    require_archive(db_path)
    Archive(db_path).close()  # migrate an older archive before Datasette reads it
    from datasette.cli import cli as datasette_cli

    metadata = datasette_metadata(Path(db_path).stem)
    handle, metadata_path = tempfile.mkstemp(prefix="hoard-datasette-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(metadata, out)
        datasette_cli.main(
            args=datasette_args(db_path, metadata_path, host, port),
            prog_name="hoard serve",
            standalone_mode=False,
        )
    except OSError as exc:
        raise HoardError(f"cannot serve on {host}:{port} ({exc}); try another --port") from None
    finally:
        os.unlink(metadata_path)
    return exitcodes.OK
