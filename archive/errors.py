"""What can go wrong opening an archive, said for a person."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ArchiveUnreadable(Exception):
    """A file that cannot be opened as an archive (not SQLite, cut short, read-only, in a
    folder that does not exist): one line saying which file and what to check."""


def unreadable(path: str | Path, exc: sqlite3.Error | OSError) -> ArchiveUnreadable:
    """The one line for `exc` raised opening the archive at `path`."""
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered:
        advice = (
            "is --db a reviewhoard archive (an SQLite file)? It may be another file or cut short"
        )
    elif "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
        advice = "it is read-only here; check its and its folder's permissions"
    elif "unable to open" in lowered:
        advice = "check that its folder exists and can be written"
    else:
        advice = "check the file"
    return ArchiveUnreadable(f"cannot open {path} as an archive ({text}): {advice}")
