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
