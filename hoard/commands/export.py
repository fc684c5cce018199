"""`hoard export`: every archived review, streamed as JSON lines or CSV; or every stored raw page
as a web archive (WARC 1.1, or WACZ for ReplayWeb.page)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sqlite3
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import click

from reviewhoard.archive.queries import CSV_COLUMNS, csv_row, iter_export
from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.commands._archive import open_reader
from reviewhoard.hoard.errors import HoardError, UsageError
from reviewhoard.hoard.options import db_option


def _since(value: str | None) -> str | None:
    """`--since` as the archive's times are written (UTC): a time with a zone offset is moved
    to UTC, so `2026-12-01T00:00:00+05:00` means 2026-11-30T19:00:00Z, not midnight UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise UsageError(
            f"--since {value!r} is not an ISO 8601 date; e.g. --since 2026-01-31"
        ) from None


WEB_ARCHIVES = ("warc", "wacz")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's CSV injection advice)."""


def spreadsheet_safe(row: list[Any]) -> list[Any]:
    """A CSV row a spreadsheet opens as data: a text that starts like a formula gets a leading
    `'` (so `=HYPERLINK(...)` written in a review stays text), and booleans read `true`/`false`
    as in the JSON lines (not Python's True/False)."""
    out: list[Any] = []
    for value in row:
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, str) and value.startswith(FORMULA_STARTS):
            value = "'" + value
        out.append(value)
    return out


def _site_key(site: str | None) -> str | None:
    """The key of the site a user named (pages are stored under keys, not aliases)."""
    if site is None:
        return None
    from reviewhoard.parsers import PageError
    from reviewhoard.sites import site_named

    try:
        return site_named(site).key
    except PageError as exc:
        raise UsageError(exc.reason) from None


def export_warc(
    conn: sqlite3.Connection,
    out: IO[bytes],
    *,
    name: str,
    db_path: str,
    site: str | None,
    since: str | None,
    gzip: bool = True,
    page_list: IO[str] | None = None,
) -> tuple[int, int]:
    """Every stored page (filtered) into `out` as WARC records after a warcinfo record naming
    reviewhoard and the archive; (responses, revisits) written. `page_list`: where the WACZ
    list of HTML pages goes."""
    from reviewhoard.archive.warc_export import iter_page_events
    from reviewhoard.hoard.warc_output import WarcOutput, write_pages

    warc = WarcOutput(out, gzip=gzip)
    fields = {
        "description": f"Raw pages kept by the reviewhoard archive {os.path.basename(db_path)}",
        "isPartOf": os.path.basename(db_path),
        "hoard-site": site or "",
        "hoard-since": since or "",
    }
    warc.warcinfo(name, fields)
    counts = write_pages(warc, iter_page_events(conn, site=site, since=since), page_list)
    warc.flush()
    return counts


def _write_web_archive(
    conn: sqlite3.Connection,
    fmt: str,
    output: str,
    db_path: str,
    site: str | None,
    since: str | None,
) -> tuple[int, int, int]:
    """The WARC or WACZ file at `output` (written aside, then moved in place, so an
    interrupted export leaves no half file); (responses, revisits, bytes)."""
    if output == "-":
        if fmt == "wacz":
            raise UsageError("--format wacz writes a zip file: give -o FILE.wacz")
        out = sys.stdout.buffer
        counts = export_warc(conn, out, name="-", db_path=db_path, site=site, since=since)
        return (*counts, 0)
    target = Path(output)
    if target.parent and not target.parent.is_dir():
        raise UsageError(f"-o {output}: no folder {target.parent}; create it first")
    part = target.with_name(target.name + ".part")
    try:
        if fmt == "warc":
            plain = target.name.endswith(".warc")
            with open(part, "wb") as handle:
                counts = export_warc(
                    conn, handle, name=target.name, db_path=db_path, site=site,
                    since=since, gzip=not plain,
                )  # fmt: skip
        else:
            counts = _write_wacz(conn, part, target, db_path, site, since)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return (*counts, target.stat().st_size)


def _write_wacz(
    conn: sqlite3.Connection,
    part: Path,
    target: Path,
    db_path: str,
    site: str | None,
    since: str | None,
) -> tuple[int, int]:
    """A WACZ (py-wacz) around the WARC export: index, pages list and metadata, so the file
    opens in ReplayWeb.page."""
    from wacz.main import main as wacz_main

    stem = target.name.removesuffix(".wacz") or "export"
    with tempfile.TemporaryDirectory(prefix="hoard-wacz-") as scratch:
        warc_path = Path(scratch) / f"{stem}.warc.gz"
        pages_path = Path(scratch) / "pages.jsonl"
        with open(warc_path, "wb") as handle, open(pages_path, "w", encoding="utf-8") as pages:
            header = {"format": "json-pages-1.0", "id": "pages", "title": stem}
            pages.write(json.dumps(header) + "\n")
            counts = export_warc(
                conn, handle, name=warc_path.name, db_path=db_path, site=site, since=since,
                page_list=pages,
            )  # fmt: skip
        said = io.StringIO()
        # py-wacz narrates on stdout; its words go to the error line if it fails.
        with contextlib.redirect_stdout(said):
            status = wacz_main(
                ["create", "-o", str(part), "-p", str(pages_path), "--title", stem, str(warc_path)]
            )
        if status not in (0, None):
            last = said.getvalue().strip().splitlines()[-1:] or ["no reason given"]
            raise HoardError(f"py-wacz could not write {target}: {last[0]}")
    return counts


@click.command(
    "export",
    epilog="\b\nExamples:\n  hoard export --format jsonl > reviews.jsonl\n"
    "  hoard export --format csv --site SITE --since 2026-01-01 > recent.csv\n"
    "  hoard export --format warc -o pages.warc.gz\n"
    "  hoard export --format wacz -o pages.wacz   # opens in ReplayWeb.page\n\n" + exitcodes.EPILOG,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", *WEB_ARCHIVES]),
    default="jsonl",
    show_default=True,
    help="jsonl: one review per line in the record's shape; csv: one flat row per review; "
    "warc: every stored raw page as a WARC 1.1 response record (gzip per record); wacz: the "
    "same WARC packed with its index for ReplayWeb.page.",
)
@click.option(
    "-o",
    "--output",
    default=None,
    metavar="FILE",
    help="Write here instead of stdout; warc and wacz need it (`-o -` streams a WARC to "
    "stdout; FILE.warc writes it uncompressed).",
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
    help="Only reviews seen (pages fetched) on or after this date/time (ISO 8601, UTC).",
)
@db_option
def command(fmt: str, output: str | None, site: str | None, since: str | None, db_path: str) -> int:
    """Write every archived review to stdout, one at a time (constant memory); or every stored
    raw page as a web archive.

    A JSON line is the review as `hoard extract` prints it, with the current author name and
    text, followed by the archive's own fields: first_seen_at, last_seen_at, gone_at,
    version_count and author_former_names. CSV flattens the same fields (nested ones as JSON).

    WARC (ISO 28500, 1.1): a warcinfo record, then every stored page as a `response` record
    dated when it was fetched, with the headers kept, block and payload digests, and a
    `revisit` record where the same body was fetched again later. Bodies are stored decoded,
    so the original Content-Encoding, Transfer-Encoding and Content-Length headers are renamed
    X-Crawler-... (as Common Crawl does) and Content-Length is the body's. `hoard import` reads
    the file back; `warcio check` and other WARC tools read it too.
    """
    since_key = _since(since)
    if fmt in WEB_ARCHIVES:
        if output is None:
            raise UsageError(f"--format {fmt} writes a file: give -o FILE.{fmt}" + (
                ".gz" if fmt == "warc" else ""))  # fmt: skip
        site_key = _site_key(site)
        conn = open_reader(db_path)
        try:
            responses, revisits, size = _write_web_archive(
                conn, fmt, output, db_path, site_key, since_key
            )
        finally:
            conn.close()
        if output != "-":
            noun = "page" if responses == 1 else "pages"
            click.echo(
                f"exported {responses} {noun} ({revisits} fetched again, as revisits) "
                f"-> {output} ({size / 1e6:,.1f} MB)"
            )
        return exitcodes.OK
    site_key = _site_key(site)
    conn = open_reader(db_path)
    handle = open(output, "w", encoding="utf-8", newline="") if output else None  # noqa: SIM115
    out = handle or sys.stdout
    try:
        records = iter_export(conn, site=site_key, since=since_key)
        if fmt == "jsonl":
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False))
                out.write("\n")
        else:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for record in records:
                writer.writerow(spreadsheet_safe(csv_row(record)))
        out.flush()
    except BrokenPipeError:
        return exitcodes.OK  # `hoard export | head` is fine
    finally:
        conn.close()
        if handle is not None:
            handle.close()
    return exitcodes.OK
