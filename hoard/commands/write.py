"""`hoard write --redis URL [--db PATH]`: the archive's one writer for crawls over Redis."""

from __future__ import annotations

from pathlib import Path

import click

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import UsageError
from reviewhoard.hoard.options import db_option

EPILOG = (
    """
\b
Example (on the machine that holds the archive):
  hoard write --redis redis://127.0.0.1:6379/0 --db archive.db
\b
Safe to kill at any moment (even SIGKILL): a capture is acknowledged only once its transaction
is committed, and a capture handed again is not written twice; start it again to go on.
"""
    + exitcodes.EPILOG
)


@click.command("write", epilog=EPILOG)
@click.option("--redis", "redis_url", required=True, metavar="URL",
              help="The Redis the workers hand captures to: redis://HOST:PORT/DB.")  # fmt: skip
@db_option
@click.option(
    "--exit-when-idle",
    is_flag=True,
    help="End once no run is left: the frontier is empty, nothing is in flight and every "
    "capture is written.",
)
def command(redis_url: str, db_path: str, exit_when_idle: bool) -> int:
    """Write what the workers fetch into the archive: its one writer, holding its lock.

    Publishes what the archive holds (for update mode), writes the workers' captures, closes
    each run's `crawls` row with the same alarms and outcome as a local run, and tells the
    command that submitted the run. One writer per archive: while it runs, a local `hoard crawl`
    or `hoard update` of the same archive exits 75, and so does a second writer.
    """
    from reviewhoard.hoard.distributed.link import check_url
    from reviewhoard.hoard.distributed.writer import run_writer

    try:
        check_url(redis_url)
    except ValueError as exc:
        raise UsageError(f"--redis: {exc}") from None
    return run_writer(redis_url, Path(db_path), exit_when_idle=exit_when_idle)
