"""`hoard backup PATH`: a consistent snapshot of the archive, safe to take while a run writes."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import click

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import HoardError, UsageError
from reviewhoard.hoard.options import db_option


def backup_target(path: Path, db: Path) -> Path:
    """The file to write: PATH itself, or `<dir>/<archive>-<UTC time>.db` when PATH is a folder."""
    if path.is_dir():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        return path / f"{db.stem}-{stamp}.db"
    return path


SIDE_FILES = ("-journal", "-wal", "-shm")
"""The files SQLite keeps beside a database while it writes it."""


def _write_checked(db: Path, partial: Path) -> None:
    source = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        source.execute("VACUUM INTO ?", (str(partial),))
    except sqlite3.DatabaseError as exc:
        raise HoardError(
            f"backup of {db} failed: {exc}; check that it is a hoard archive and the disk has room",
            exitcodes.PARTIAL,
        ) from None
    finally:
        source.close()
    check = sqlite3.connect(str(partial))
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise HoardError(f"backup of {db} failed its integrity check ({result}); nothing written")
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())


def snapshot(db: Path, target: Path) -> int:
    """Write a snapshot of `db` to `target` with VACUUM INTO (one read transaction: consistent
    even while another process writes, and it never blocks that writer), check it, then move it
    into place; a crash leaves at most a `.partial` file, never a half-written backup. Returns
    its size in bytes."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    leftovers = [partial, *(Path(f"{partial}{suffix}") for suffix in SIDE_FILES)]
    for path in leftovers:
        path.unlink(missing_ok=True)
    try:
        _write_checked(db, partial)
        os.replace(partial, target)
    except BaseException:
        # Nothing half-made stays behind: not the copy, not its journal or log.
        for path in leftovers:
            path.unlink(missing_ok=True)
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target.stat().st_size


@click.command(
    "backup",
    epilog="Example (nightly, from cron):\n\n\b\n"
    "  hoard backup --db /srv/hoard/archive.db /srv/backups/\n"
    "  -> /srv/backups/archive-20260101T030000Z.db\n\n" + exitcodes.EPILOG,
)
@db_option
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace PATH if it is an existing regular file (never a device, a link, the archive "
    "or its -wal/-shm files).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def command(db_path: str, path: Path, force: bool, as_json: bool) -> int:
    """Write a consistent snapshot of the archive to PATH (a file, or a folder to put a
    time-stamped file in).

    Safe while `hoard update` runs: the copy is one read transaction (SQLite's VACUUM INTO), so it
    holds exactly the reviews committed when it started, and the running crawl is never blocked.
    The copy is compacted, checked with PRAGMA integrity_check, and only then moved to PATH.
    """
    db = Path(db_path)
    if not db.is_file():
        raise UsageError(f"no archive at {db}; pass --db or set $HOARD_DB")
    target = backup_target(path, db)
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist; create it first")
    archive_files = {db.resolve(), *(Path(f"{db.resolve()}{s}") for s in SIDE_FILES)}
    if target.resolve() in archive_files:
        raise UsageError(f"{target} is the archive or one of its own files; name another file")
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UsageError(
            f"{target} is not a regular file (a device, a link or a folder): only a regular "
            "file can be replaced; name a new file"
        )
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to replace it, or name a new file")
    size = snapshot(db, target)
    if as_json:
        click.echo(json.dumps({"db": str(db), "backup": str(target), "bytes": size,
                               "integrity": "ok"}))  # fmt: skip
    else:
        click.echo(f"hoard backup: {db} -> {target} ({size / 1e6:.1f} MB, integrity ok)")
    return exitcodes.OK
