"""What the crawl-running commands (`hoard crawl SITE`, `hoard update`, `hoard worker`) say and
where: `-v`/`-vv`, `-q`, `--log-file` and `--json`, spelled and meaning the same in each.

- without a flag: stderr gets one line per error (no traceback), stdout the summary line;
- `-v` adds Scrapy's log at INFO on stderr, `-vv` at DEBUG (every request and response);
- `-q`: no live progress line, only the summary line and errors;
- `--log-file FILE`: Scrapy's log (INFO, DEBUG with `-vv`) appended to FILE; errors still go to
  stderr, where cron mails them;
- `--json`: the summary as one JSON object on stdout instead of the line (errors, alarms and the
  stop reason stay one line each on stderr), like `hoard import --json` and `hoard backup --json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reviewhoard.hoard.errors import UsageError

if TYPE_CHECKING:
    from reviewhoard.hoard.crawl.supervise import Outcome

F = TypeVar("F", bound=Callable[..., Any])

VERBOSE_HELP = (
    "Show Scrapy's log on stderr: -v at INFO (pages, items, stats), -vv at DEBUG (every "
    "request and response). With --log-file, the level of the file instead."
)


def verbose_option(func: F) -> F:
    """`-v`/`-vv` (`--verbose`, counted): the level of Scrapy's log."""
    return click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)(func)


def quiet_option(func: F) -> F:
    """`-q`/`--quiet`: no progress line."""
    return click.option(
        "-q", "--quiet", is_flag=True, help="No progress line: only the summary line and errors."
    )(func)


def log_file_option(func: F) -> F:
    """`--log-file FILE`: the full Scrapy log appended to FILE."""
    return click.option(
        "--log-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Append the full Scrapy log (INFO; DEBUG with -vv) to this file; errors still go "
        "to stderr.",
    )(func)


def json_option(func: F) -> F:
    """`--json`: the summary as one JSON object on stdout."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print the summary as one JSON object on stdout instead of the summary line "
        "(errors, alarms and the stop reason stay on stderr).",
    )(func)


def log_level(verbose: int) -> str:
    """Scrapy's LOG_LEVEL for a `-v` count: 0 ERROR (one line per error), 1 INFO, 2+ DEBUG."""
    return "DEBUG" if verbose >= 2 else "INFO" if verbose else "ERROR"


def check_flags(verbose: int, quiet: bool, log_file: Path | None) -> None:
    """UsageError (exit 2) for flags that contradict each other or a log file that cannot be
    written, before any lock is taken or request sent."""
    if verbose and quiet:
        raise UsageError("-q and -v contradict each other: pass one")
    if log_file is None:
        return
    if log_file.is_dir():
        raise UsageError(f"--log-file {log_file}: is a folder; name a file")
    if not log_file.parent.is_dir():
        raise UsageError(f"--log-file {log_file}: folder {log_file.parent} does not exist")
    try:
        with log_file.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"--log-file {log_file}: cannot write it ({exc.strerror})") from None


def summary_dict(outcome: Outcome, command: str, db_path: Path | str) -> dict[str, Any]:
    """The `--json` summary of a supervised run (`hoard crawl`, `hoard update`): counts named
    as in `hoard import --json` and the `crawls` table, the outcome and exit status, alarms,
    the stop reason, and each feed's counts."""
    stats = outcome.stats
    result = outcome.result

    def count(key: str) -> int:
        return int(stats.get(key) or 0)

    gone = sum(
        int(v or 0) for k, v in stats.items() if k.startswith("hoard/feed/") and k.endswith("/gone")
    )
    stopped = result.reason_line() if result is not None else None
    if stats.get("hoard/write_failed"):
        stopped = str(stats["hoard/write_failed"])
    reasons = sorted({o.finish_reason for o in result.outcomes}) if result is not None else []
    requests = count("downloader/request_count") - count("robotstxt/request_count")
    return {
        "command": command,
        "crawl_id": outcome.crawl_id,
        "outcome": outcome.outcome,
        "exit": outcome.status,
        "reviews_new": count("hoard/reviews_new"),
        "reviews_updated": count("hoard/reviews_updated"),
        "reviews_unchanged": count("hoard/reviews_unchanged"),
        "reviews_rejected": count("hoard/reviews_rejected"),
        "reviews_gone": gone,
        "pages": sum(f.pages for f in outcome.feeds.values()),
        "pages_stored": count("hoard/pages_stored"),
        "requests": requests,
        "errors": outcome.errors,
        "alarms": [a.to_dict() for a in outcome.alarms],
        "finish_reasons": reasons,
        "stopped": stopped,
        "seconds": round(outcome.elapsed, 1),
        "feeds": {feed: asdict(counts) for feed, counts in sorted(outcome.feeds.items())},
        "db": str(db_path),
    }


def echo_json(summary: dict[str, Any]) -> None:
    """The summary as one JSON object, one line, on stdout."""
    click.echo(json.dumps(summary, ensure_ascii=False, sort_keys=False, default=str))
