"""`hoard worker --redis URL`: fetch and parse what the shared frontier holds, on any machine."""

from __future__ import annotations

import click

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import UsageError
from reviewhoard.hoard.logging_options import log_level, verbose_option

EPILOG = (
    """
\b
Example (on each crawling machine; Redis and the writer on the archive's machine):
  hoard worker --redis redis://archive-host:6379/0
\b
Safe to kill at any moment (even SIGKILL): the requests it held go to another worker after
the visibility timeout (-s HOARD_REDIS_VISIBILITY=60, seconds).
"""
    + exitcodes.EPILOG
)


@click.command("worker", epilog=EPILOG)
@click.option("--redis", "redis_url", required=True, metavar="URL",
              help="The Redis the run was submitted to: redis://HOST:PORT/DB.")  # fmt: skip
@click.option(
    "--exit-when-idle",
    is_flag=True,
    help="End once no run is left: the frontier is empty, nothing is in flight and every "
    "capture is written.",
)
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A Scrapy setting for this worker, over the run's (e.g. -s HOARD_REDIS_VISIBILITY=30).",
)
@verbose_option
def command(redis_url: str, exit_when_idle: bool, settings: tuple[str, ...], verbose: int) -> int:
    """Fetch and parse the requests of every run submitted to Redis, politely.

    Runs each job with the spider, arguments and settings it was submitted with (`hoard crawl
    SITE ... --redis URL`, or `hoard update` with `redis = "URL"` in its watches). Politeness
    holds across every worker together: one request in flight per host, the site's delay
    between two, robots.txt, and a 429/503's Retry-After pauses the host for every worker.
    Captures go to Redis for the writer (`hoard write`); nothing is written here.
    """
    from reviewhoard.hoard.crawl.run import parse_setting_overrides
    from reviewhoard.hoard.distributed.link import check_url
    from reviewhoard.hoard.distributed.worker import run_worker

    try:
        check_url(redis_url)
    except ValueError as exc:
        raise UsageError(f"--redis: {exc}") from None
    overrides: dict[str, str] = dict(parse_setting_overrides(settings))
    if verbose >= 2:
        overrides.setdefault("LOG_LEVEL", log_level(verbose))  # the worker's base stops at INFO
    return run_worker(
        redis_url, exit_when_idle=exit_when_idle, overrides=overrides, verbose=bool(verbose)
    )
