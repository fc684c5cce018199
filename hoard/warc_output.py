"""WARC files out: records in the format the web-archiving world shares (ISO 28500, WARC 1.1).

`hoard export --format warc` and `hoard crawl --warc DIR` write through `WarcOutput`: warcio
builds each record (headers, block and payload digests), and every record is its own gzip member,
so tools can seek to any record and a file cut short loses only its last record.

Bodies the archive keeps are decoded (Scrapy undoes Content-Encoding and chunking), so a record
is written as Common Crawl writes such bodies: the original `Content-Encoding`,
`Transfer-Encoding` and `Content-Length` headers renamed `X-Crawler-...` and a true
`Content-Length`, so the record's HTTP message says what its payload is.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import uuid
import zlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import IO, TYPE_CHECKING

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from reviewhoard.hoard import __version__

if TYPE_CHECKING:
    from reviewhoard.archive.warc_export import StoredPage

SOFTWARE = f"reviewhoard/{__version__}"
WARC_VERSION = "1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
GZIP_LEVEL = 6
"""zlib level of each record's gzip member: warcio's own writer uses 9, which takes about twice
the time for about 2% smaller files."""
RENAMED = ("content-encoding", "transfer-encoding", "content-length")
"""Headers that describe the bytes as they travelled, not the decoded body a record holds."""
_ID_NAMESPACE = uuid.UUID("8f4b8a4e-5c37-4f6b-9a0c-7d0c1f2e3a4b")


def warc_date(moment: str) -> str:
    """An ISO 8601 time as a WARC-Date: UTC, `Z`, fractions of a second only when there are
    some (WARC 1.1 allows them)."""
    parsed = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed.microsecond:
        return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def record_id(*parts: str) -> str:
    """A WARC-Record-ID made from what the record is (the same page at the same time always
    gets the same id, so exporting twice gives the same records); random without parts."""
    if not parts:
        return f"<urn:uuid:{uuid.uuid4()}>"
    return f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, chr(0).join(parts))}>"


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest warcio writes for a payload (sha1, base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def status_line(status: int) -> str:
    """`200 OK`: the HTTP status line after the protocol."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def decoded_http_headers(
    status: int, headers: Mapping[str, str] | Iterable[tuple[str, str]], body_length: int
) -> StatusAndHeaders:
    """The HTTP status and headers of a record holding a decoded body: Content-Encoding,
    Transfer-Encoding and Content-Length renamed `X-Crawler-...`, a true Content-Length added."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if name.lower() in RENAMED:
            out.append(("X-Crawler-" + name, value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(body_length)))
    return StatusAndHeaders(status_line(status), out, protocol="HTTP/1.1")


def raw_http_headers(
    status: int, headers: Iterable[tuple[str, str]], body_length: int, protocol: str = "HTTP/1.1"
) -> StatusAndHeaders:
    """The HTTP status and headers of a record holding a body as it arrived (still
    Content-Encoded): only the chunking, which the client undid, is renamed, and Content-Length
    is made true when it was missing or wrong."""
    out: list[tuple[str, str]] = []
    length_ok = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "transfer-encoding":
            out.append(("X-Crawler-" + name, value))
        elif lowered == "content-length":
            if value.strip() == str(body_length):
                length_ok = True
                out.append((name, value))
            else:
                out.append(("X-Crawler-" + name, value))
        else:
            out.append((name, value))
    if not length_ok:
        out.append(("Content-Length", str(body_length)))
    return StatusAndHeaders(status_line(status), out, protocol=protocol or "HTTP/1.1")


class _GzipMembers:
    """A file object that compresses what warcio writes of each record into a gzip member of
    its own (warcio flushes once at the end of every record)."""

    def __init__(self, out: IO[bytes], level: int) -> None:
        self.out = out
        self.level = level
        self.compressor: zlib._Compress | None = None
        self.written = 0

    def write(self, data: bytes) -> int:
        if self.compressor is None:
            self.compressor = zlib.compressobj(self.level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        chunk = self.compressor.compress(data)
        self.out.write(chunk)
        self.written += len(chunk)
        return len(data)

    def flush(self) -> None:
        if self.compressor is not None:
            chunk = self.compressor.flush()
            self.out.write(chunk)
            self.written += len(chunk)
            self.compressor = None
        self.out.flush()


class _Counting:
    """A file object that counts what goes through (for an uncompressed WARC)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.written = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.written += len(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


class WarcOutput:
    """Writes WARC 1.1 records to a binary file, each its own gzip member (or uncompressed with
    `gzip=False`). `written` is the bytes written so far."""

    def __init__(self, out: IO[bytes], *, gzip: bool = True, level: int = GZIP_LEVEL) -> None:
        self._sink: _GzipMembers | _Counting = _GzipMembers(out, level) if gzip else _Counting(out)
        self._writer = WARCWriter(self._sink, gzip=False, warc_version=WARC_VERSION)

    @property
    def written(self) -> int:
        """Bytes written to the file so far."""
        return self._sink.written

    def warcinfo(self, filename: str, fields: Mapping[str, str]) -> str:
        """The `warcinfo` record that opens a file: software, format and `fields`; its id."""
        info = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            **fields,
        }
        record = self._writer.create_warcinfo_record(filename, info)
        self._writer.write_record(record)
        return str(record.rec_headers.get_header("WARC-Record-ID"))

    def response(
        self,
        uri: str,
        date: str,
        http: StatusAndHeaders,
        body: bytes,
        *,
        record: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """A `response` record of `body` (as `http` describes it) fetched from `uri` at `date`
        (ISO 8601); its WARC-Record-ID. `extra`: more WARC headers."""
        rid = record or record_id()
        headers = {"WARC-Record-ID": rid, "WARC-Date": warc_date(date), **(extra or {})}
        built = self._writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict=headers,
        )
        self._writer.write_record(built)
        return rid

    def request(
        self,
        uri: str,
        date: str,
        http: StatusAndHeaders,
        *,
        concurrent_to: str | None = None,
        body: bytes = b"",
    ) -> str:
        """A `request` record (the request as sent); its WARC-Record-ID."""
        rid = record_id()
        headers = {"WARC-Record-ID": rid, "WARC-Date": warc_date(date)}
        if concurrent_to:
            headers["WARC-Concurrent-To"] = concurrent_to
        built = self._writer.create_warc_record(
            uri,
            "request",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict=headers,
        )
        self._writer.write_record(built)
        return rid

    def revisit(
        self,
        uri: str,
        date: str,
        http: StatusAndHeaders,
        *,
        digest: str,
        refers_to: str,
        refers_to_uri: str,
        refers_to_date: str,
        record: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """A `revisit` record (profile identical-payload-digest): the payload of the response
        `refers_to` seen again at `date`; its WARC-Record-ID."""
        rid = record or record_id()
        headers = {
            "WARC-Record-ID": rid,
            "WARC-Date": warc_date(date),
            "WARC-Refers-To": refers_to,
            **(extra or {}),
        }
        built = self._writer.create_revisit_record(
            uri,
            digest,
            refers_to_uri,
            warc_date(refers_to_date),
            http_headers=http,
            warc_headers_dict=headers,
        )
        self._writer.write_record(built)
        return rid

    def flush(self) -> None:
        """Push what was written to the file."""
        self._sink.flush()


def guess_content_type(body: bytes) -> str:
    """A Content-Type for a stored page that came without one (a saved file): JSON or HTML."""
    start = body[:64].lstrip()
    return "application/json" if start.startswith((b"{", b"[")) else "text/html"


def header_name(name: str) -> str:
    """`content-type` as `Content-Type` (the archive keeps names lowercased)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def write_pages(
    out: WarcOutput,
    events: Iterable[tuple[str, StoredPage]],
    page_list: IO[str] | None = None,
) -> tuple[int, int]:
    """Every stored page event as its record: a `response` at its first fetch, a `revisit` at
    its last; (responses, revisits) written. `page_list` gets a WACZ pages.jsonl line for each
    HTML page (what ReplayWeb.page lists)."""
    from reviewhoard.hoard.warc_input import FINAL_URL_HEADER, SITE_HEADER

    responses = revisits = 0
    for kind, page in events:
        headers = {header_name(k): v for k, v in page.headers.items()}
        if "Content-Type" not in headers:
            headers["Content-Type"] = guess_content_type(page.body)
        http = decoded_http_headers(page.status, headers, len(page.body))
        extra = {SITE_HEADER: page.site}
        if page.final_url != page.url:
            extra[FINAL_URL_HEADER] = page.final_url
        first = record_id("page", page.sha256, page.fetched_at)
        if kind == "response":
            out.response(page.url, page.fetched_at, http, page.body, record=first, extra=extra)
            responses += 1
            if page_list is not None and "html" in headers["Content-Type"].lower():
                line = {"url": page.url, "ts": warc_date(page.fetched_at), "title": page.url}
                page_list.write(json.dumps(line) + "\n")
        else:
            out.revisit(
                page.url,
                page.last_fetched_at,
                http,
                digest=payload_digest(page.body),
                refers_to=first,
                refers_to_uri=page.url,
                refers_to_date=page.fetched_at,
                record=record_id("revisit", page.sha256, page.last_fetched_at),
                extra=extra,
            )
            revisits += 1
    return responses, revisits
