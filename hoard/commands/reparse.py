"""`hoard reparse`: read every stored raw page again with today's parsers and apply the result."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reviewhoard.archive.queries import iter_pages, page_ids
from reviewhoard.archive.store import read_connection
from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.commands._archive import open_reader
from reviewhoard.hoard.errors import HoardError, UsageError
from reviewhoard.hoard.lock import ArchiveLock, close_abandoned
from reviewhoard.hoard.options import db_option, jobs_option
from reviewhoard.items import Capture
from reviewhoard.parsers import PageError
from reviewhoard.pipelines.context import EARLY_BATCH, WriteFailed
from reviewhoard.sites import site_named

if TYPE_CHECKING:
    from reviewhoard.hoard.parse_pool import PageTask, ParsePool

POOL_PAGES = 8
"""Pages below which the parsers run in this process unless --jobs says otherwise: a pool of
worker processes takes about 0.3 s to start, more than it saves on a few pages."""


@click.command(
    "reparse",
    epilog="\b\nExample:\n  hoard reparse --db archive.db\n"
    "  reparsed 12 pages: 0 reviews new, 1 updated, 239 unchanged, 0 rejected; 0 failed\n\n"
    + exitcodes.EPILOG,
)
@db_option
@click.option("--site", default=None, help="Only pages of this site (a key or alias).")
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def command(db_path: str, site: str | None, jobs: int | None, as_json: bool) -> int:
    """Re-extract every stored page with today's parsers and apply the result.

    Pages are read oldest first and their reviews go through the crawl's pipelines, dated by
    when the page was fetched, so nothing moves forward in time. A text that an older parser
    read differently from the same page corrects that page's version in place (it is not an
    edit); reviews the page did not yield before are added. Running it twice changes nothing
    the second time. A page today's parser refuses is reported and left as it is (exit 1).

    Pages are parsed by --jobs worker processes (default: one per core; 1, or fewer than 8
    pages without --jobs: all in this process) while this process writes, in the same order:
    the result is the same whatever --jobs is.

    Like a crawl, it holds the archive's run lock: beside another run (a
    `hoard crawl`/`update`/`import`) it exits 75 at once and writes nothing (run it
    again after).
    """
    if site is not None:
        try:
            site = site_named(site).key
        except PageError as exc:
            raise UsageError(exc.reason) from None

    def _reparse() -> int:
        reader = open_reader(db_path)
        try:
            ids = page_ids(reader, site=site)
        finally:
            reader.close()
        from reviewhoard.hoard.parse_pool import ParsePool, pool_jobs

        # Workers start (and load the parsers) while this process opens the archive.
        with ParsePool(pool_jobs(jobs, len(ids), len(ids) >= POOL_PAGES)) as pool:
            return _write(ids, pool)

    def _write(ids: list[int], pool: ParsePool) -> int:
        from reviewhoard.hoard.parse_pool import PageTask, WorkerDied, whole

        writer = ArchiveWriter(
            db_path,
            command="hoard reparse",
            args={"site": site, "pages": len(ids)},
            reread=True,
            # With workers parsing, this process only writes: batches are written on a thread
            # of their own while it goes on handing pages out (SQLite works without the GIL),
            # as soon as the thread is free, so no backlog is left to write alone at the end.
            background=pool.jobs > 1,
            early_batch=EARLY_BATCH,
        )
        failed = 0

        def tasks(reader: sqlite3.Connection) -> Iterator[tuple[dict[str, Any], PageTask]]:
            for page in iter_pages(reader, ids):
                # Read at the address that answered, by the site that read it before.
                yield page, PageTask(page["body"], page["final_url"], page["site"], False)

        reader = read_connection(db_path)
        try:
            # Only on a terminal: elsewhere (cron, a pipe) click would print an empty line.
            live = sys.stderr.isatty()
            bar = click.progressbar(length=len(ids), file=sys.stderr, hidden=not live)
            with bar:
                for page, read in pool.map(tasks(reader)):
                    bar.update(1)
                    assert read is not None
                    if read.refused is not None:
                        failed += 1
                        click.echo(
                            ("\n" if live else "")  # off the progress bar's line
                            + f"hoard: page {page['id']} ({page['url']}): {read.refused}",
                            err=True,
                        )
                        continue
                    capture = Capture(
                        url=page["url"],
                        final_url=page["final_url"],
                        status=page["status"],
                        headers=page["headers"],
                        body=page["body"],
                        fetched_at=page["last_fetched_at"],
                        site=page["site"],
                        parser_version=read.parser_version,
                        reviews=read.reviews,
                        packed=page["packed"],
                    )
                    with whole():
                        writer.write(capture)
        except WriteFailed as exc:
            with suppress(WriteFailed):
                writer.finish("failed", errors=failed + 1, finish_reason="archive_write_failed")
            raise HoardError(str(exc), exitcodes.WRITE_FAILED) from None
        except WorkerDied as exc:
            with suppress(WriteFailed):
                writer.finish("failed", errors=failed + 1, finish_reason="parser_process_died")
            raise HoardError(f"{exc}; the pages before it are stored") from None
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            with suppress(WriteFailed):
                writer.finish(
                    "interrupted" if interrupted else "failed",
                    errors=failed + (0 if interrupted else 1),
                    finish_reason="shutdown" if interrupted else "error",
                )
            raise
        finally:
            reader.close()
        try:
            counts = writer.counts()
            writer.finish(errors=failed, finish_reason="finished")
        except WriteFailed as exc:
            raise HoardError(str(exc), exitcodes.WRITE_FAILED) from None
        if as_json:
            click.echo(json.dumps({"pages": len(ids), "failed_pages": failed, **counts}))
        else:
            click.echo(
                f"reparsed {len(ids)} pages: {counts['reviews_new']} reviews new, "
                f"{counts['reviews_updated']} updated, {counts['reviews_unchanged']} unchanged, "
                f"{counts['reviews_rejected']} rejected; {failed} failed"
            )
        return exitcodes.PARTIAL if failed or counts["reviews_rejected"] else exitcodes.OK

    # The archive's run lock, as crawls and imports take it (exit 75 beside another run).
    with ArchiveLock(Path(db_path), command="hoard reparse"):
        close_abandoned(Path(db_path), sys.stderr)
        return _reparse()
