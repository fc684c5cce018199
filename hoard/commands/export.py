"""`hoard export`: every archived review, streamed as JSON lines or CSV."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime

import click

from archive.queries import CSV_COLUMNS, csv_row, iter_export
from hoard import exitcodes
from hoard.commands._archive import open_reader
from hoard.errors import UsageError
from hoard.options import db_option


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise UsageError(
            f"--since {value!r} is not an ISO 8601 date; e.g. --since 2026-01-31"
        ) from None


@click.command(
    "export",
    epilog="\b\nExamples:\n  hoard export --format jsonl > reviews.jsonl\n"
    "  hoard export --format csv --site SITE --since 2026-01-01 > recent.csv\n\n"
    + exitcodes.EPILOG,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one review per line in the record's shape; csv: one flat row per review.",
)
@click.option(
    "--site",
    default=None,
    help="Only reviews of this site (a key or alias, as `hoard crawl --help` lists).",
)
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Only reviews seen on or after this date/time (ISO 8601, UTC).",
)
@db_option
def command(fmt: str, site: str | None, since: str | None, db_path: str) -> int:
    """Write every archived review to stdout, one at a time (constant memory).

    A JSON line is the review as `hoard extract` prints it, with the current author name and
    text, followed by the archive's own fields: first_seen_at, last_seen_at, gone_at,
    version_count and author_former_names. CSV flattens the same fields (nested ones as JSON).
    """
    since_key = _since(since)
    conn = open_reader(db_path)
    out = sys.stdout
    try:
        records = iter_export(conn, site=site, since=since_key)
        if fmt == "jsonl":
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False))
                out.write("\n")
        else:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for record in records:
                writer.writerow(csv_row(record))
        out.flush()
    except BrokenPipeError:
        return exitcodes.OK  # `hoard export | head` is fine
    finally:
        conn.close()
    return exitcodes.OK
