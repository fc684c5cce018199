"""Options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "archive.db"


def db_option(func: F) -> F:
    """`--db PATH`: the archive file; default $HOARD_DB, else ./archive.db."""
    return click.option(
        "--db",
        "db_path",
        envvar="HOARD_DB",
        default=DEFAULT_DB,
        show_default=True,
        type=click.Path(dir_okay=False),
        help="Archive file (SQLite). Also set by $HOARD_DB.",
    )(func)


def jobs_option(func: F) -> F:
    """`--jobs N`: how many processes run the parsers (import, reparse)."""
    return click.option(
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Processes that run the parsers, beside this one that writes (default: the number "
        "of cores; 1: everything in this process). The archive is the same whatever N is.",
    )(func)
