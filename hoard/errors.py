"""Errors that end a `hoard` command with one line for people and a documented exit status."""

from __future__ import annotations

from reviewhoard.hoard import exitcodes


class HoardError(Exception):
    """A failure the user can act on: printed as one line, `hoard: <message>`, then exit."""

    exit_code: int = exitcodes.PARTIAL

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(HoardError):
    """Bad arguments or configuration (exit 2)."""

    exit_code = exitcodes.USAGE


class LockedError(HoardError):
    """Another run holds the archive (exit 75)."""

    exit_code = exitcodes.LOCKED
