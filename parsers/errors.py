"""The one error type parsers raise: a page that cannot be read correctly."""

from __future__ import annotations


class PageError(Exception):
    """A page cannot be read correctly; nothing from it may be trusted.

    `reason` is one human sentence (what is wrong and, where useful, what to do); `where` names the
    page (its URL or file) and is filled in by whoever knows it.
    """

    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason
