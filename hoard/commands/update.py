"""`hoard update [--config hoard.toml]`: every watch of a watchlist in one run, made for cron."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import click

from reviewhoard.hoard.config import EXAMPLE, Config, Watch, load_config
from reviewhoard.hoard.errors import UsageError
from reviewhoard.hoard.logging_options import (
    check_flags,
    echo_json,
    json_option,
    log_file_option,
    quiet_option,
    summary_dict,
    verbose_option,
)
from reviewhoard.hoard.options import DEFAULT_DB

"""The spider that crawls each site a watch can name."""

EPILOG = (
    "\b\nExample hoard.toml:\n"
    + textwrap.indent(EXAMPLE, "  ")
    + """
\b
Hourly from cron: summary lines to a file, only errors and alarms to cron's mail:
  0 * * * *  cd /srv/hoard && .venv/bin/hoard update -q --log-file scrapy.log >> runs.log
Or one JSON object per run, for a monitoring script:
  0 * * * *  cd /srv/hoard && .venv/bin/hoard update --json --log-file scrapy.log >> runs.jsonl

\b
Exit status:
  0   all good
  1   the run finished, but some requests or items failed (see the log)
  2   usage or config error (the message names file and line)
  3   data-quality alarm: a feed stopped yielding reviews, pages lost their review blocks,
      rating/text/author/date on < 99% of reviews, > 5% of requests failed or got 429, or
      the crawl stopped early (layout_changed, mobile_page, too_many_429,
      robots_unreadable...)
  69  the site (or the mirror standing in for it) could not be reached at all
  74  the archive could not be written (disk full, I/O error): what was not stored is
      named, and the next run fetches it again
  75  another run holds the archive; nothing was done (try again later)
  130 / 143  stopped by SIGINT / SIGTERM (what was fetched is stored; the run is recorded
      as interrupted and the next run picks up the rest)
"""
)


def crawl_specs(config: Config) -> list[tuple[str, dict[str, str]]]:
    """(spider, arguments) per site and mode: watches of the same site and mode share one
    spider, so the site sees one polite request stream, never several at once."""
    grouped: dict[tuple[str, str], list[Watch]] = {}
    for watch in config.watches:
        grouped.setdefault((watch.site, watch.mode), []).append(watch)
    specs = []
    for (site, mode), watches in grouped.items():
        values: dict[str, list[str]] = {}
        for watch in watches:
            for name, given in watch.options:
                values.setdefault(name, []).extend(v for v in given if v not in values[name])
        args = {name: ",".join(given) for name, given in values.items()}
        args["mode"] = mode
        folders = sorted({w.warc for w in watches if w.warc})
        if len(folders) > 1:
            named = ", ".join(folders)
            raise UsageError(
                f"{config.path}: the {site} watches ({mode}) share one crawl but name different "
                f"warc folders ({named}); name one"
            )
        if folders:
            args["warc"] = str(config.path.parent / folders[0])
        specs.append((site, args))
    return specs


def archive_path(option: str | None, config: Config) -> Path:
    """--db, else the config's `db`, else $HOARD_DB, else ./archive.db: the more specific wins
    (a $HOARD_DB exported for other commands does not redirect a watchlist that names its db)."""
    if option:
        return Path(option)
    return config.db or Path(os.environ.get("HOARD_DB") or DEFAULT_DB)


@click.command("update", epilog=EPILOG)
@click.option(
    "--config",
    "config_path",
    default="hoard.toml",
    show_default=True,
    envvar="HOARD_CONFIG",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The watchlist file. Also set by $HOARD_CONFIG.",
)
@click.option(
    "--db",
    "db_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Archive file; overrides the config's `db`. Without either: $HOARD_DB, else ./archive.db.",
)
@quiet_option
@verbose_option
@log_file_option
@json_option
def command(
    config_path: Path,
    db_path: str | None,
    quiet: bool,
    verbose: int,
    log_file: Path | None,
    as_json: bool,
) -> int:
    """Run every watch of the watchlist (hoard.toml) in one run, into one archive.

    One run at a time per archive: a second `hoard update` or `hoard crawl` on the same archive
    exits 75 at once. On a terminal a progress line shows pages, reviews new and updated, errors
    and time; with --quiet or from cron only the summary line and errors are printed (--json:
    the summary as one JSON object on stdout instead of the line). -v/-vv show Scrapy's log at
    INFO/DEBUG. Every run is recorded in the archive's `crawls` table with its outcome and
    alarms.
    """
    from reviewhoard.hoard.crawl.run import CrawlSpec
    from reviewhoard.hoard.crawl.supervise import supervise

    check_flags(verbose, quiet, log_file)
    config = load_config(config_path)
    db = archive_path(db_path, config)
    specs = [CrawlSpec(spider, args) for spider, args in crawl_specs(config)]
    watch_of_feed = {feed: w.label for w in config.watches for feed in w.feeds}
    command_line = f"hoard update --config {config_path}"
    settings = dict(config.settings)
    if any("warc" in spec.args for spec in specs):
        from reviewhoard.middlewares.warc_writer import warc_folder, with_warc_writer

        for spec in (s for s in specs if "warc" in s.args):
            try:
                spec.args["warc"] = warc_folder(spec.args["warc"])
            except ValueError as exc:
                raise UsageError(f"{config_path}: warc = {spec.args['warc']!r}: {exc}") from None
        settings = with_warc_writer(settings)
    redis = sorted({w.redis or "" for w in config.watches})
    if redis != [""]:
        if len(redis) > 1:
            raise UsageError(
                f"{config_path}: name the same redis in every [[watch]] (or in none): the run "
                f"goes to one frontier, not {', '.join(u or '(local)' for u in redis)}"
            )
        from reviewhoard.hoard.distributed.submit import crawl_over_redis

        if as_json or log_file:
            raise UsageError(
                f"{'--json' if as_json else '--log-file'} does not go with a watchlist that "
                "names a redis: the workers keep their own logs and the run's outcome is "
                "printed as its summary line"
            )
        return crawl_over_redis(
            redis[0], specs, settings, command_line, watch_of_feed=watch_of_feed,
            summary_key="update_summary",
        )  # fmt: skip
    outcome = supervise(
        db,
        specs,
        settings,
        command_line,
        watch_of_feed=watch_of_feed,
        quiet=quiet,
        verbose=verbose,
        log_file=log_file,
    )
    if as_json:
        echo_json(summary_dict(outcome, "update", db))
    else:
        click.echo(outcome.summary("hoard update"))
    return outcome.status
