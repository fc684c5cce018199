"""Shared by the WARC tests: running `hoard`, `warcio` and friends as real processes, building
WARC files with warcio (never by hand), and reading an archive's content to compare two."""

from __future__ import annotations

import gzip
import io
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import ROOT

BIN = Path(sys.executable).parent
BEBOP_URL = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
OLD, NEW = "anime-1-reviews-2018-12-old", "anime-1-reviews-2022-10"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A process of the venv's tools (`hoard`, `warcio`, `wacz`) or another program."""
    program = str(BIN / args[0]) if (BIN / args[0]).exists() else args[0]
    return subprocess.run(
        [program, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def hoard(*args: str) -> subprocess.CompletedProcess[str]:
    """`hoard ARGS` as a real process."""
    return run("hoard", *args)


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    """`warcio check -v PATH` (exit 0 when every digest passes)."""
    return run("warcio", "check", "-v", str(path))


def warcio_index(path: Path) -> list[str]:
    """`warcio index` of a file, one JSON line per record; AssertionError when it fails."""
    done = run(
        "warcio", "index", "-f", "warc-type,warc-target-uri,warc-date,http:status", str(path)
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def chunked(data: bytes, size: int = 8000) -> bytes:
    """`data` in HTTP/1.1 chunked transfer coding."""
    parts = [
        f"{len(data[i : i + size]):x}\r\n".encode() + data[i : i + size] + b"\r\n"
        for i in range(0, len(data), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


class WarcBuilder:
    """Records written with warcio into one file (gzip per record unless `gzip=False`)."""

    def __init__(self, path: Path, gzip: bool = True) -> None:
        self.path = path
        self.handle = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.writer = WARCWriter(self.handle, gzip=gzip)
        self.offsets: list[int] = []

    def _write(self, record: Any) -> Any:
        self.offsets.append(self.handle.tell())
        self.writer.write_record(record)
        return record

    def response(
        self,
        uri: str,
        body: bytes,
        date: str,
        *,
        status: str = "200 OK",
        content_type: str = "text/html; charset=utf-8",
        encoding: str | None = None,
        chunk: bool = False,
    ) -> Any:
        """A response record; `encoding` ("gzip", "zstd") sends the body so encoded, `chunk`
        chunked."""
        headers = [("Content-Type", content_type)]
        payload = body
        if encoding == "gzip":
            payload = gzip.compress(payload)
        elif encoding == "zstd":
            payload = zstandard.ZstdCompressor().compress(payload)
        if encoding:
            headers.append(("Content-Encoding", encoding))
        if chunk:
            payload = chunked(payload)
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(payload))))
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        record = self.writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(payload),
            length=len(payload),
            http_headers=http,
            warc_headers_dict={"WARC-Date": date},
        )
        return self._write(record)

    def request(self, uri: str, date: str) -> Any:
        """A GET request record."""
        path = "/" + uri.split("/", 3)[-1]
        http = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", "x")], is_http_request=True)
        record = self.writer.create_warc_record(
            uri, "request", http_headers=http, warc_headers_dict={"WARC-Date": date}
        )
        return self._write(record)

    def metadata(self, uri: str, text: bytes) -> Any:
        """A metadata record."""
        record = self.writer.create_warc_record(
            uri,
            "metadata",
            payload=io.BytesIO(text),
            length=len(text),
            warc_content_type="text/plain",
        )
        return self._write(record)

    def revisit(self, original: Any, uri: str, date: str, *, by_id: bool = True) -> Any:
        """A revisit of `original` (identical payload), answered 304 Not Modified."""
        headers = original.rec_headers
        record = self.writer.create_revisit_record(
            uri,
            headers.get_header("WARC-Payload-Digest"),
            headers.get_header("WARC-Target-URI"),
            headers.get_header("WARC-Date"),
            http_headers=StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date},
        )
        if by_id:
            record.rec_headers.add_header("WARC-Refers-To", headers.get_header("WARC-Record-ID"))
        return self._write(record)

    def close(self) -> Path:
        self.handle.close()
        return self.path


def content(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What two archives of the same pages must share, whatever the clock said: reviews with
    every field and text, their versions, authors (renames), subjects, and the pages kept
    (address, status, body, site, parser version, how often fetched)."""
    conn = sqlite3.connect(db)
    try:
        return {
            "reviews": sorted(
                conn.execute(
                    "SELECT site, review_id, url, subject_type, subject_id, subject_title, "
                    "author_name, published_at, rating, rating_scale, recommendation, tags, "
                    "is_spoiler, is_preliminary, progress_seen, progress_total, progress_unit, "
                    "reactions, helpful_count, sub_scores, extra, text, content_hash, "
                    "version_count, gone_at FROM reviews"
                )
            ),
            "versions": sorted(
                conn.execute(
                    "SELECT site, review_id, content_hash, rating, coalesce(text, '') "
                    "FROM review_versions"
                )
            ),
            "authors": sorted(conn.execute("SELECT site, name, url, former_names FROM authors")),
            "subjects": sorted(conn.execute("SELECT site, type, subject_id, title FROM subjects")),
            "pages": sorted(
                conn.execute(
                    "SELECT url, final_url, status, sha256, site, parser_version, fetch_count "
                    "FROM pages"
                )
            ),
        }
    finally:
        conn.close()


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a query on an archive."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
