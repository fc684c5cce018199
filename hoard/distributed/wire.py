"""What a capture looks like in the captures stream, from a worker to the writer.

An entry of `keys.CAPTURES` has the fields `run`, `job`, `kind` (`capture` or `walked`) and:

- for a capture (`enc` = `1`): `data`, the capture's JSON without its body (ASCII), and `body`,
  the body's bytes as received. Redis fields are binary-safe, so the body is neither base64'd
  nor escaped into JSON as `Capture.to_bytes()` must: that cost a worker a quarter of its time
  per page, and the writer a tenth of its own. Not compressed either: zstd's fastest level
  would cost the worker more (~2 ms a page) than the bytes cost Redis and the writer, and an
  entry lives in Redis only until the writer has committed it;
- for a feed event: `data`, `FeedWalked.to_bytes()`.

An entry without `enc` holds `Capture.to_bytes()` in `data` (the first format): still read, so
a writer restarted on a newer version writes what older workers left.
"""

from __future__ import annotations

import dataclasses
import json

from reviewhoard.items import Capture, FeedWalked

ENCODING = b"1"


def capture_fields(capture: Capture) -> dict[str, bytes]:
    """The stream fields of a capture (besides `run`, `job` and `kind`)."""
    bodiless = dataclasses.replace(capture, body=b"")
    # ASCII JSON: json's C encoder escapes faster than it writes UTF-8, and loads reads both.
    meta = json.dumps(bodiless.to_dict()).encode("ascii")
    return {"enc": ENCODING, "data": meta, "body": capture.body}


def item_fields(item: Capture | FeedWalked) -> dict[str, str | bytes]:
    """`kind` and the payload fields of a capture or a feed event."""
    if isinstance(item, Capture):
        return {"kind": "capture", **capture_fields(item)}
    return {"kind": "walked", "data": item.to_bytes()}


def read_capture(fields: dict[bytes, bytes]) -> Capture:
    """The capture an entry's fields hold, in either format."""
    encoding = fields.get(b"enc")
    if encoding is None:
        return Capture.from_bytes(fields[b"data"])
    if encoding != ENCODING:
        raise ValueError(f"a capture encoded as {encoding!r}, which this version cannot read")
    capture = Capture.from_dict(json.loads(fields[b"data"]))
    capture.body = fields[b"body"]
    return capture
