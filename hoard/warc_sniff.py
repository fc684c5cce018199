"""Telling a WARC file from a saved page, cheaply: by its name, else by its first bytes.

Kept apart from `hoard.warc_input` (which loads warcio and zstandard) so that `hoard import` can
decide how many parser processes to start before it loads anything else.
"""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = b"WARC/1."
WARC_SUFFIXES = (".warc", ".warc.gz")


def is_warc_path(path: str) -> bool:
    """Whether `path` is to be read as a WARC file: by its name (.warc, .warc.gz), else by its
    first bytes (a WARC record, or a gzip member holding one)."""
    if path.lower().endswith(WARC_SUFFIXES):
        return True
    try:
        with open(path, "rb") as handle:
            start = handle.read(4096)
    except OSError:
        return False
    return starts_like_warc(start)


def starts_like_warc(start: bytes) -> bool:
    """Whether these first bytes of a file begin a WARC record (plain or in a gzip member)."""
    if start.startswith(GZIP_MAGIC):
        try:
            start = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(start, 64)
        except zlib.error:
            return False
    return start.startswith(WARC_MAGIC)
