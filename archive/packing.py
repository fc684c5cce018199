"""A page body as the `pages` table keeps it: its sha256 (how each distinct body is stored once)
and its zstd-compressed bytes.

Packing is the costliest part of writing a page (2 ms of a MAL page's 270 KB, against 8 ms for
its 20 reviews' rows), and needs nothing from the archive: `hoard import` has it done by the parse
workers (`PageRead.packed`), beside the parser, so the one writer only inserts. Whoever packs
a body, the bytes are the same (the same function, the same level); the writer packs what came
unpacked, and what came packed for another body (`PackedBody.size` disagreeing) it packs again.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from reviewhoard.archive.hashing import body_sha256

ZSTD_LEVEL = 3
"""zstd level for page bodies: a MAL page (270 KB) in ~2 ms to ~62 KB; level 6 takes 3x the time
for 5% less."""


@dataclass(slots=True, frozen=True)
class PackedBody:
    """A body ready for its `pages` row."""

    sha256: str
    """sha256 (hex) of the body as received."""
    compression: str
    """How `blob` is compressed (`pages.compression`)."""
    blob: bytes
    size: int
    """The body's own length (`pages.body_size`)."""

    def fits(self, body: bytes) -> bool:
        """Whether this was packed from a body of `body`'s length (a cheap guard against
        pairing a page with another page's packing)."""
        return self.size == len(body)


def compress_body(body: bytes) -> tuple[str, bytes]:
    """The body as stored in `pages.body`: zstd, named in `pages.compression`."""
    import zstandard

    return "zstd", zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)


def decompress_body(compression: str, blob: bytes) -> bytes:
    """The original body of a `pages` row."""
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompress(blob)
    if compression == "gzip":
        return zlib.decompress(blob, 16 + zlib.MAX_WBITS)
    if compression == "none":
        return bytes(blob)
    raise ValueError(f"unknown page compression {compression!r}")


def pack_body(body: bytes) -> PackedBody:
    """The body hashed and compressed, as `Archive` stores it."""
    compression, blob = compress_body(body)
    return PackedBody(body_sha256(body), compression, blob, len(body))
