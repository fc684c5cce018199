"""`hoard import PAGE|WARC...`: archive saved pages and web archives as if just fetched."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import HoardError, UsageError
from reviewhoard.hoard.options import db_option, jobs_option

if TYPE_CHECKING:
    from reviewhoard.hoard.parse_pool import ParsePool
    from reviewhoard.sites import Site

FLUSH_BYTES = 64 * 1024 * 1024
"""Page bytes handed to the writer after which its batch is written, whatever its reviews: keeps
memory flat on a WARC of many pages without reviews."""
POOL_BYTES = 2 * 1024 * 1024
"""Input below which the parsers run in this process unless --jobs says otherwise: a pool of
worker processes takes about 0.3 s to start, more than it saves on a few pages."""


@dataclass(slots=True)
class SavedPage:
    """A saved page read, waiting for its parser's result."""

    path: str
    body: bytes = field(repr=False)


@dataclass(slots=True, frozen=True)
class Said:
    """A line for stderr in the place of an input that could not be read (a failed page when
    `failed`; a damaged WARC record is counted by the WARC tally instead); no line: a WARC
    file starts."""

    line: str
    failed: bool = True


def _jobs(jobs: int | None, pages: tuple[str, ...], warcs: set[str]) -> int:
    """Worker processes for these inputs (`hoard.parse_pool.pool_jobs`): never more than saved
    pages (when no WARC file holds an unknown number), and by default none for less than
    `POOL_BYTES` of input."""
    from reviewhoard.hoard.parse_pool import pool_jobs

    size = 0
    for page in pages:
        with suppress(OSError):
            size += os.path.getsize(page) if page != "-" else 0
    return pool_jobs(jobs, 0 if warcs else len(pages), size >= POOL_BYTES)


def _read(page: str) -> bytes:
    from reviewhoard.hoard.commands.extract import read_page

    try:
        return read_page(page)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise HoardError(f"{page}: cannot read the file ({reason}); check the path") from None


class Progress:
    """One line on a terminal, rewritten at most 4 times a second: records, MB, reviews."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()
        self.shown = 0.0
        self.width = 0

    def update(self, records: int, size: int, reviews: int) -> None:
        """Show the figures (when on a terminal and a quarter second has passed)."""
        if not self.live:
            return
        now = time.monotonic()
        if now - self.shown < 0.25:
            return
        self.shown = now
        text = f"{records:,} records, {size / 1e6:,.1f} MB, {reviews:,} reviews"
        self.out.write("\r" + text.ljust(self.width))
        self.out.flush()
        self.width = len(text)

    def clear(self) -> None:
        """Remove the line (before an error line, and at the end)."""
        if self.live and self.width:
            self.out.write("\r" + " " * self.width + "\r")
            self.out.flush()
            self.width = 0


@click.command(
    "import",
    epilog="\b\nExamples:\n  hoard import saved/reviews-page.html "
    "--url https://SITE/ADDRESS/OF/THE/PAGE --db archive.db\n"
    "  imported 1 page: 20 reviews new, 0 updated, 0 unchanged, 0 rejected -> archive.db\n"
    "  hoard import saved/*.html           # each page names its own address\n"
    "  hoard import crawl.warc.gz          # wget --warc-file, Browsertrix, hoard export...\n"
    "  hoard import mirror.warc.gz --site SITE --base-url http://127.0.0.1:8765\n\n"
    + exitcodes.EPILOG,
)
@click.argument("pages", nargs=-1, required=True, metavar="PAGE|WARC...")
@click.option(
    "--url",
    default=None,
    help="The address the saved page(s) came from (names the site). Without it, each page's "
    'own: its canonical link, og:url or a browser\'s "saved from url=" comment.',
)
@click.option(
    "--site",
    default=None,
    help="Site key or alias when the URL is a mirror's (in a WARC: the site that reads records "
    "of hosts no site knows).",
)
@click.option(
    "--base-url",
    default=None,
    metavar="URL",
    help="WARC files of a mirror or replay site reached at URL: their addresses are mapped "
    "back to the --site's own (as `hoard crawl --base-url` stores them).",
)
@click.option(
    "--fetched-at",
    default=None,
    metavar="ISO",
    help="When the saved pages were captured (ISO 8601, e.g. 2018-12-01T00:00:00Z); default "
    "now. A WARC record has its own date (WARC-Date).",
)
@jobs_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def command(
    pages: tuple[str, ...],
    url: str | None,
    site: str | None,
    base_url: str | None,
    fetched_at: str | None,
    jobs: int | None,
    db_path: str,
    as_json: bool,
) -> int:
    """Archive saved pages and web archives exactly as if they had just been fetched.

    Each PAGE is stored raw in the `pages` table and its reviews go through the same pipelines
    as a crawl (normalize, validate, version, store): an unchanged review only has its
    last-seen time moved, an edited one gets a new version. Without --url each page is read
    at the address it names for itself, so a folder of pages of many titles and sites imports
    in one command.

    A WARC file (.warc, .warc.gz, or any file that starts with a WARC record) adds every
    `response` record whose URL a site recognises, at the record's own URL and date;
    `revisit` records count as the earlier payload seen again; requests, metadata, images and
    pages of no known site are skipped and counted; a damaged record is reported with its
    offset and the rest of the file is read. On a terminal a progress line shows records, MB
    and reviews.

    Pages are parsed by --jobs worker processes (default: one per core; 1, or less than 2 MB
    of input without --jobs: all in this process) while this process writes: the archive is
    the same whatever --jobs is, pages are written in the order given, and Ctrl-C stops it
    cleanly (exit 130, what was written stays).

    One run at a time: like a crawl, an import holds the archive's run lock, so beside a
    running `hoard crawl`/`update`/`reparse` it exits 75 at once and writes nothing (run it
    again after). A full disk ends it with exit 74 and one line; what was written stays.

    Prints one summary line (and one for WARC records). A page that cannot be read, a file that
    is not a WARC, or a damaged record is reported on stderr and skipped (exit 1); the others
    are kept.
    """
    from reviewhoard.hoard.parse_pool import ParsePool
    from reviewhoard.hoard.warc_sniff import is_warc_path

    warcs = {page for page in pages if page != "-" and is_warc_path(page)}
    # The parser processes start first: their fork server loads the parsers (0.3 s) on another
    # core while this process loads the archive's code, checks the options and takes the lock.
    with ParsePool(_jobs(jobs, pages, warcs)) as pool:
        return _run(pool, warcs, pages, url, site, base_url, fetched_at, db_path, as_json)


def _run(
    pool: ParsePool,
    warc_paths: set[str],
    pages: tuple[str, ...],
    url: str | None,
    site: str | None,
    base_url: str | None,
    fetched_at: str | None,
    db_path: str,
    as_json: bool,
) -> int:
    """`hoard import` with its parser processes starting (`command` says what it does)."""
    from reviewhoard.archive.writer import ArchiveWriter
    from reviewhoard.hoard.lock import ArchiveLock, close_abandoned
    from reviewhoard.hoard.warc_input import Damage, NotWarc, WarcImport
    from reviewhoard.items import Capture, utc_now
    from reviewhoard.parsers import PageError
    from reviewhoard.pipelines.context import EARLY_BATCH, WriteFailed
    from reviewhoard.sites import site_for_url, site_named

    chosen: Site | None = None
    try:
        if url is not None:
            chosen = site_named(site) if site else site_for_url(url)
        elif site is not None:
            chosen = site_named(site)
    except PageError as exc:
        raise UsageError(exc.reason) from None
    if base_url is not None:
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url {base_url!r}: give an http:// or https:// address")
        if site is None:
            raise UsageError("--base-url needs --site: the site the mirror or replay serves")
    if fetched_at is not None:
        try:
            datetime.fromisoformat(fetched_at.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--fetched-at {fetched_at!r} is not an ISO 8601 time; e.g. 2018-12-01T00:00:00Z"
            ) from None
    args: dict[str, object] = {"pages": list(pages), "url": url, "site": site}
    if base_url:
        args["base_url"] = base_url

    def _import() -> int:
        # With workers parsing, this process only writes: batches are written on a thread of
        # their own while it goes on handing pages out (SQLite works without the GIL), as soon
        # as the thread is free, so no backlog is left to write alone at the end.
        writer = ArchiveWriter(
            db_path,
            command="hoard import",
            args=args,
            background=pool.jobs > 1,
            early_batch=EARLY_BATCH,
        )
        warcs = WarcImport(site=site_named(site) if site else None, base_url=base_url)
        progress = Progress(sys.stderr)
        failed = archived = warc_files = 0
        page_reviews = 0
        unwritten = 0

        def complain(line: str) -> None:
            progress.clear()
            click.echo(f"hoard: {line}", err=True)

        def show() -> None:
            tally = warcs.tally
            progress.update(tally.records, warcs.bytes_read, tally.reviews + page_reviews)

        from reviewhoard.hoard.parse_pool import PageTask, WorkerDied, whole

        def tasks() -> Iterator[tuple[Any, PageTask | None]]:
            """Every page of the inputs, in order, with the task that reads it; what cannot be
            read is a line to say, in its place."""
            nonlocal warc_files
            for page in pages:
                if page in warc_paths:
                    warc_files += 1
                    yield Said("", failed=False), None  # a new file: its own flush budget
                    try:
                        for record, task in warcs.pending(page, on_record=show):
                            if isinstance(record, Damage):
                                yield Said(record.line(page), failed=False), None
                            else:
                                yield record, task
                    except NotWarc as exc:
                        yield Said(f"{page}: {exc}"), None
                    except OSError as exc:
                        reason = exc.strerror or exc
                        yield Said(f"{page}: cannot read the file ({reason}); check the path"), None
                    continue
                try:
                    body = _read(page)
                except HoardError as exc:  # one unreadable file: said, and the rest are kept
                    yield Said(str(exc)), None
                    continue
                # With --url, the page is read there; else at the address it names itself.
                # The worker also checks a --url against the address the page names, and packs
                # the body for its `pages` row.
                key = chosen.key if chosen else None
                task = PageTask(body, url, key, pack=True, filed_at_url=url is not None)
                yield SavedPage(page, body), task

        try:
            for item, read in pool.map(tasks()):
                if isinstance(item, Said):
                    failed += item.failed
                    if item.line:
                        complain(item.line)
                    else:
                        unwritten = 0
                elif isinstance(item, SavedPage):
                    assert read is not None
                    if read.refused is not None:
                        failed += 1
                        complain(f"{item.path}: {read.refused}")
                        continue
                    capture = Capture(
                        url=read.url,
                        final_url=read.url,
                        status=200,
                        headers={"x-hoard-imported-from": os.path.basename(item.path)},
                        body=item.body,
                        fetched_at=fetched_at or utc_now(),
                        site=read.site,
                        parser_version=read.parser_version,
                        reviews=read.reviews,
                        completions=read.completions,
                        packed=read.packed,
                    )
                    with whole():
                        writer.write(capture)
                    archived += 1
                    page_reviews += len(read.reviews)
                else:
                    assert read is not None
                    record = warcs.finish(item, read)
                    if record is None:
                        continue
                    with whole():
                        writer.write(record)
                    # The writer batches by reviews; pages without any would pile up.
                    unwritten += len(record.body)
                    if unwritten > FLUSH_BYTES:
                        writer.ctx.flush()
                        unwritten = 0
        except WriteFailed as exc:
            progress.clear()
            with suppress(WriteFailed):
                writer.finish("failed", errors=failed + 1, finish_reason="archive_write_failed")
            raise HoardError(str(exc), exitcodes.WRITE_FAILED) from None
        except WorkerDied as exc:
            progress.clear()
            with suppress(WriteFailed):
                writer.finish("failed", errors=failed + 1, finish_reason="parser_process_died")
            raise HoardError(f"{exc}; the pages before it are stored") from None
        except KeyboardInterrupt:
            progress.clear()
            with suppress(WriteFailed):
                writer.finish("interrupted", errors=failed, finish_reason="shutdown")
            raise
        except BaseException:
            progress.clear()
            with suppress(WriteFailed):
                writer.finish("failed", errors=failed + 1, finish_reason="error")
            raise
        progress.clear()
        tally = warcs.tally
        damaged = tally.damaged
        archived += tally.archived
        try:
            counts = writer.counts()
            writer.finish(errors=failed + damaged, finish_reason="finished")
        except WriteFailed as exc:
            with suppress(WriteFailed):
                writer.finish("failed", errors=failed + 1, finish_reason="archive_write_failed")
            raise HoardError(str(exc), exitcodes.WRITE_FAILED) from None
        summary: dict[str, object] = {"pages": archived, "failed_pages": failed, **counts}
        if warc_files:
            summary["warc"] = tally.to_dict()
        summary["db"] = db_path
        if as_json:
            click.echo(json.dumps(summary))
        else:
            if warc_files:
                click.echo(tally.line())
            noun = "page" if archived == 1 else "pages"
            click.echo(
                f"imported {archived} {noun}: {counts['reviews_new']} reviews new, "
                f"{counts['reviews_updated']} updated, {counts['reviews_unchanged']} unchanged, "
                f"{counts['reviews_rejected']} rejected -> {db_path}"
            )
        partial = failed or damaged or counts["reviews_rejected"]
        return exitcodes.PARTIAL if partial else exitcodes.OK

    # The archive's run lock, as crawls take it: an import beside a crawl waits for no one and
    # mixes with nothing (exit 75), and a killed import's row is closed by the next run.
    with ArchiveLock(Path(db_path), command="hoard import"):
        close_abandoned(Path(db_path), sys.stderr)
        return _import()
