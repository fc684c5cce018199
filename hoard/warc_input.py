"""WARC files in: records become `items.Capture`s for the archive's one writer.

`hoard import FILE.warc.gz` reads web archives made by other tools (wget --warc-file, Browsertrix,
ArchiveWeb.page, Heritrix, the Internet Archive) or by `hoard export`/`hoard crawl --warc`:

- every `response` record whose URL a site recognises, answered 2xx with a page (HTML, JSON,
  XML or text), is archived exactly as if just fetched: the record's `WARC-Target-URI` is its URL,
  its `WARC-Date` when it was fetched, its payload (Content-Encoding and chunking undone) is read
  by the site's parser;
- a `revisit` record is the earlier payload seen again at the revisit's date: the payload is read
  again from where it was in the file (or in an earlier file of the same import);
- everything else (requests, warcinfo, metadata, images, pages of no known site, pages the
  site's parser refuses) is skipped and counted;
- a damaged record (digest mismatch, cut short, not followed by its blank lines, unreadable) is
  reported once, as a `Damage` naming its offset, and reading goes on at the next record.

The format is warcio's business (records, gzip members, digests, HTTP headers); this module only
decides what a record means for the archive and finds the next record after damage. Memory stays
constant: one record's payload at a time (a few per parser process when `hoard.parse_pool` reads
them: `WarcImport.pending()` reads records ahead, `finish()` takes each result in order), plus a
small index of imported payloads for revisits.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, cast

import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders

from reviewhoard.hoard.warc_sniff import GZIP_MAGIC, WARC_MAGIC, starts_like_warc
from reviewhoard.items import Capture
from reviewhoard.parsers import PageError
from reviewhoard.sites import Site, all_sites, site_for_url, site_named

if TYPE_CHECKING:
    from reviewhoard.hoard.parse_pool import PageRead, PageTask, ParsePool

MAX_PAYLOAD = 64 * 1024 * 1024
"""Payloads larger than this are not pages (a crawl refuses 16 MB): skipped unread."""
PAGE_TYPES = ("html", "json", "xml")
"""Content types worth handing to a parser (anything else is an image, script, style...)."""
FINAL_URL_HEADER = "X-Hoard-Final-URL"
"""WARC header `hoard export` writes when a page was fetched from elsewhere than its URL (a replay
site or mirror): the address that answered."""
SITE_HEADER = "X-Hoard-Site"
"""WARC header `hoard export` writes: the site whose parser read the page."""
RENAMED_PREFIX = "x-crawler-"
"""How an exporter that decodes bodies (Common Crawl, `hoard export`) keeps the original
Content-Encoding, Transfer-Encoding and Content-Length headers."""

SKIP_REASONS: dict[str, str] = {
    "request": "request records",
    "other": "warcinfo, metadata and other records",
    "no_site": "pages of no known site",
    "not_page": "images, scripts, styles and other non-pages",
    "status": "answers other than 2xx",
    "too_large": "payloads over 64 MB",
    "refused": "pages their site's parser refused",
    "revisit_unknown": "revisits of pages not imported",
}
"""Why records were skipped, as the summary names them."""


def warc_date(value: str | None) -> str | None:
    """A WARC-Date as the archive writes times (UTC, microseconds, Z); None when unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- records -------------------------------------------------------------------------------


class _Iterator(ArchiveIterator):
    """warcio's iterator over WARC records only; the warning it prints for a record not followed
    by its blank lines is left to us (`err_count` still counts it), as one line."""

    INC_RECORD = ""

    def __init__(self, fileobj: IO[bytes]) -> None:
        super().__init__(fileobj, check_digests=True)
        self.known_format = "warc"


@dataclass(slots=True)
class WarcRecord:
    """One record, read whole: its WARC and HTTP headers, and its payload when it was asked for."""

    offset: int
    """Where the record starts in the file (in the uncompressed stream for a file gzipped
    whole)."""
    type: str
    warc: StatusAndHeaders
    http: StatusAndHeaders | None
    body: bytes | None = None
    """The payload with Content-Encoding and chunking undone, when the reader wanted it."""
    decoded: bool = False
    """Whether a Content-Encoding was undone."""
    skipped: str | None = None
    """Why the reader's `want` passed over it (a `SKIP_REASONS` key), if it did."""

    def header(self, name: str) -> str | None:
        """A WARC header's value."""
        value = self.warc.get_header(name)
        return None if value is None else str(value)

    @property
    def uri(self) -> str:
        """WARC-Target-URI (without the angle brackets some wget versions wrote)."""
        return (self.header("WARC-Target-URI") or "").strip().strip("<>")

    @property
    def status(self) -> int | None:
        """The HTTP status, or None without HTTP headers."""
        if self.http is None:
            return None
        try:
            return int(self.http.get_statuscode())
        except (TypeError, ValueError):
            return None


@dataclass(slots=True, frozen=True)
class Damage:
    """A record that could not be read whole: skipped, and why."""

    offset: int
    reason: str

    def line(self, path: str) -> str:
        """One line for stderr."""
        return f"{path}: damaged record at offset {self.offset}: {self.reason}; skipped"


class NotWarc(Exception):
    """The file is not a WARC file at all (the message says what it is)."""


class _WholeGzip(Exception):
    """The file is gzipped as one stream instead of one member per record."""


_END = object()


@contextlib.contextmanager
def _quiet() -> Iterator[io.StringIO]:
    """warcio reports some problems by writing to sys.stderr: kept here (each damage becomes
    one `Damage` instead)."""
    saved = sys.stderr
    sys.stderr = noise = io.StringIO()
    try:
        yield noise
    finally:
        sys.stderr = saved


def _payload(record: Any) -> tuple[bytes, bool]:
    """A response's payload with chunking and Content-Encoding undone (warcio does gzip,
    deflate and br; zstd, which Scrapy asks for too, is undone here); whether an encoding was."""
    http = record.http_headers
    encoding = str(http.get_header("Content-Encoding") or "").strip().lower() if http else ""
    stream = record.content_stream()
    if encoding != "zstd":
        return stream.read(), bool(encoding) and stream is not record.raw_stream
    encoded = stream.read()
    chunks, size = [], 0
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(encoded))
        while size <= MAX_PAYLOAD:  # a bomb stops here, cut short: its parser refuses it
            chunk = reader.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except zstandard.ZstdError:
        return encoded, False
    return b"".join(chunks), True


def _remaining(record: Any) -> int:
    """Bytes of the record's block its Content-Length promised and the file did not hold."""
    return int(getattr(record.raw_stream, "limit", 0) or 0)


class WarcReader:
    """The records of one WARC file, in order, robust to damage.

    `want(record)` says, from a record's headers, whether its payload is needed; the payload of
    every other record is read through (digests checked) and dropped. Iterating yields
    `WarcRecord`s and `Damage`s; `NotWarc` is raised when the file holds no WARC record at all.
    """

    def __init__(self, path: str, want: Callable[[WarcRecord], bool]) -> None:
        self.path = path
        self.want = want
        self.raw: IO[bytes] | None = None
        self.whole_gzip = False
        self.records = 0
        """Records read so far (damaged ones included)."""
        self._read_before_close = 0

    @property
    def position(self) -> int:
        """Bytes of the file read so far."""
        try:
            if self.raw is not None and not self.raw.closed:
                return self.raw.tell()
        except (OSError, ValueError):
            pass
        return self._read_before_close

    def _open(self) -> tuple[IO[bytes], IO[bytes]]:
        """(raw file, stream of records) for this file."""
        raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller
        if self.whole_gzip:
            whole = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
            return raw, whole
        return raw, raw

    def __iter__(self) -> Iterator[WarcRecord | Damage]:
        try:
            yield from self._read(skip=0)
        except _WholeGzip:
            # Read again through gzip as one stream, after the records already given.
            done = self.records
            self.whole_gzip = True
            self.records = 0
            yield from self._read(skip=done)

    def _read(self, skip: int) -> Iterator[WarcRecord | Damage]:
        raw, stream = self._open()
        self.raw = raw
        try:
            start = stream.read(4096)
            if not start:
                raise NotWarc("empty file (0 bytes), not a WARC file")
            gz = start.startswith(GZIP_MAGIC) and not self.whole_gzip
            if not starts_like_warc(start) and not self.whole_gzip:
                found = self._resync(stream, 0, gz)
                if found is None:
                    raise NotWarc(_what_it_is(start))
                yield Damage(0, "not a WARC record")
                position: int | None = found
            else:
                position = 0
            while position is not None:
                stream.seek(position)
                iterator = _Iterator(stream)
                while True:
                    with _quiet() as noise:
                        step = self._step(iterator)
                    step = _explained(step, noise.getvalue(), gz)
                    if step is _END:
                        position = None
                        break
                    if isinstance(step, tuple):  # damage that loses the thread of records
                        damage, at = step
                        yield damage
                        position = self._resync(stream, at + 1, gz)
                        break
                    assert isinstance(step, WarcRecord | Damage)
                    self.records += 1
                    if self.records <= skip:
                        continue
                    yield step
        finally:
            self._read_before_close = max(self._read_before_close, raw.tell())
            if stream is not raw:
                stream.close()
            raw.close()

    def _step(
        self, iterator: _Iterator, want: Callable[[WarcRecord], bool] | None = None
    ) -> object:
        """Read one record whole: a WarcRecord, a Damage, (Damage, offset) when the next record
        must be searched for, or _END. `want` overrides the reader's own."""
        offset = int(iterator.offset)
        errors = int(iterator.err_count)
        try:
            record = next(iterator)
        except StopIteration:
            return _END
        except ArchiveLoadFailed as exc:
            if "non-chunked gzip" in str(exc):
                raise _WholeGzip from None
            return Damage(offset, _short(str(exc))), offset
        except Exception as exc:  # whatever warcio raises on bytes that are not a record
            return Damage(offset, f"unreadable ({_short(str(exc)) or type(exc).__name__})"), offset
        found = WarcRecord(
            offset=offset,
            type=str(record.rec_type or ""),
            warc=record.rec_headers,
            http=record.http_headers,
        )
        try:
            if (want or self.want)(found):
                found.body, found.decoded = _payload(record)
            iterator.read_to_end()
        except Exception as exc:  # a payload warcio cannot read through
            return Damage(offset, f"unreadable ({_short(str(exc)) or type(exc).__name__})"), offset
        missing = _remaining(record)
        if missing:
            # A gzip member cut short mid-file ends where the next one starts: look for it.
            return Damage(offset, f"cut short ({missing:,} bytes missing)"), offset
        if iterator.err_count > errors:
            # Its Content-Length does not end where the next record starts.
            return Damage(offset, "wrong length: not followed by the next record"), offset
        checker = record.digest_checker
        if checker is not None and checker.passed is False:
            which = [w for w in ("block", "payload") if any(w in str(p) for p in checker.problems)]
            plural = "s" if len(which) > 1 else ""
            return Damage(offset, f"bad {' and '.join(which) or 'WARC'} digest{plural}")
        return found

    def _resync(self, stream: IO[bytes], position: int, gz: bool) -> int | None:
        """The offset of the next readable record at or after `position`, or None."""
        magic = GZIP_MAGIC if gz else WARC_MAGIC
        chunk = 1024 * 1024
        at = position
        while True:
            # One byte before `at` to see whether a candidate starts a line.
            back = 1 if at > 0 else 0
            stream.seek(at - back)
            data = stream.read(back + chunk + len(magic))
            if len(data) < back + len(magic):
                return None
            index = data.find(magic, back)
            while index != -1 and index < back + chunk:
                candidate = at + index - back
                line_start = gz or candidate == 0 or data[index - 1 : index] == b"\n"
                if line_start and self._readable_at(stream, candidate):
                    return candidate
                index = data.find(magic, index + 1)
            at += chunk

    @staticmethod
    def _readable_at(stream: IO[bytes], position: int) -> bool:
        """Whether a WARC record's headers can be read at `position`."""
        stream.seek(position)
        with _quiet():
            try:
                next(_Iterator(stream))
            except Exception:
                return False
        return True

    def record_at(self, offset: int) -> WarcRecord | None:
        """The record at `offset` read again, payload included (a revisit's original); None when
        it cannot be read whole."""
        raw, stream = self._open()
        try:
            stream.seek(offset)
            with _quiet():
                step = self._step(_Iterator(stream), want=lambda record: True)
        finally:
            if stream is not raw:
                stream.close()
            raw.close()
        return step if isinstance(step, WarcRecord) and step.body is not None else None


def _explained(step: object, noise: str, gz: bool) -> object:
    """A record of a gzipped file whose member warcio gave up decompressing (and said so on
    stderr), or which ran into the next member, is a corrupt or cut-short member."""
    if not isinstance(step, tuple) or not gz:
        return step
    damage, offset = step
    garbled = noise and "decompress" in noise and damage.reason.startswith("cut short")
    if garbled or damage.reason.startswith("wrong length"):
        return Damage(damage.offset, "corrupt or cut-short gzip member"), offset
    return step


def _short(text: str) -> str:
    return " ".join(text.split())[:160]


def _what_it_is(start: bytes) -> str:
    """Why a file is not a WARC file, in a few words."""
    if start.startswith(GZIP_MAGIC):
        return "not a WARC file (gzip, but holds no WARC record)"
    head = start[:16]
    if head.lstrip().startswith((b"<", b"{", b"[")):
        return "not a WARC file (a page? import it without the .warc name)"
    shown = head.decode("latin-1").encode("unicode_escape").decode("ascii")
    return f"not a WARC file (it starts with: {shown})"


# -- captures --------------------------------------------------------------------------------


@dataclass(slots=True)
class WarcTally:
    """What an import made of WARC records."""

    files: int = 0
    records: int = 0
    bytes: int = 0
    archived: int = 0
    """Pages handed to the writer (revisits included)."""
    revisits: int = 0
    reviews: int = 0
    damaged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """As the JSON summary shows it."""
        return {
            "files": self.files,
            "records": self.records,
            "bytes": self.bytes,
            "archived": self.archived,
            "revisits": self.revisits,
            "damaged": self.damaged,
            "skipped": {k: self.skipped[k] for k in SKIP_REASONS if self.skipped[k]},
        }

    def line(self) -> str:
        """One line: records read, pages archived, what was skipped and why."""
        files = "file" if self.files == 1 else "files"
        out = (
            f"read {self.records:,} records from {self.files} WARC {files} "
            f"({self.bytes / 1e6:,.1f} MB): {self.archived:,} pages archived"
            f" ({self.revisits:,} from revisits)"
        )
        skipped = [f"{self.skipped[k]:,} {v}" for k, v in SKIP_REASONS.items() if self.skipped[k]]
        if skipped:
            out += "; skipped " + ", ".join(skipped)
        if self.damaged:
            out += f"; {self.damaged:,} damaged"
        return out


def page_capture(
    site: Site,
    url: str,
    body: bytes,
    *,
    fetched_at: str,
    final_url: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Capture:
    """A page read by its site as a crawl reads it: a review page's reviews, or a follow-up
    page's whole texts (Letterboxd's full text of a cut review). PageError when it is neither."""
    from reviewhoard.hoard.parse_pool import read_with

    reviews, completions = read_with(site, url, body)
    return Capture(
        url=url,
        final_url=final_url or url,
        status=status,
        headers=headers or {},
        body=body,
        fetched_at=fetched_at,
        site=site.key,
        parser_version=site.parser.PARSER_VERSION,
        reviews=reviews,
        completions=completions,
    )


def _flat_headers(http: StatusAndHeaders, decoded: bool) -> dict[str, str]:
    """Response headers as the archive keeps them (as a crawl stores Scrapy's): names
    lowercased, repeats joined with ", ", no Content-Encoding once the body is decoded, and the
    originals an exporter renamed (`X-Crawler-...`) back under their own names."""
    out: dict[str, str] = {}
    for name, value in http.headers:
        key = str(name).lower()
        out[key] = f"{out[key]}, {value}" if key in out else str(value)
    renamed = {k[len(RENAMED_PREFIX) :]: v for k, v in out.items() if k.startswith(RENAMED_PREFIX)}
    if renamed:
        out = {k: v for k, v in out.items() if not k.startswith(RENAMED_PREFIX)}
        out.pop("content-length", None)  # the exporter's own, for the decoded body
        out.update(renamed)
        decoded = True
    if decoded:
        out.pop("content-encoding", None)
    return out


def _content_type(record: WarcRecord) -> str:
    if record.http is None:
        return ""
    return str(record.http.get_header("Content-Type") or "").lower()


class WarcImport:
    """Turns the records of WARC files into captures for the writer, and counts what it skips.

    `site`: read every record of an unknown host with this site (a mirror's WARC); `base_url`:
    the address the mirror or replay site was reached at, whose URLs map back to the site's own
    (as `hoard crawl --base-url` stores them).
    """

    def __init__(self, site: Site | None = None, base_url: str | None = None) -> None:
        self.site = site
        self.base_url = base_url.rstrip("/") if base_url else None
        self.tally = WarcTally()
        self.originals: dict[str, tuple[str, int]] = {}
        """Payload digest or record id -> (file, offset) of a response imported: what a revisit
        may refer to."""
        self.sent: dict[str, tuple[str, int]] = {}
        """The same for every response handed to a parser, kept or not yet known: where a revisit
        read ahead finds its payload."""
        self.reader: WarcReader | None = None
        self._readers: dict[str, WarcReader] = {}
        """The reader of each file read (how it is compressed): where revisits find payloads."""
        self._done_bytes = 0

    @property
    def bytes_read(self) -> int:
        """Bytes of WARC files read so far (for the progress line)."""
        return self._done_bytes + (self.reader.position if self.reader else 0)

    def resolve(self, record: WarcRecord) -> tuple[Site, str] | None:
        """(the site that reads the record, the page's URL as the archive stores it), or None
        when no site knows it."""
        uri = record.uri
        if self.base_url and self.site and uri.startswith(self.base_url):
            from reviewhoard.middlewares.rebase import canonical_url

            return self.site, canonical_url(uri, self.site.base_url, self.base_url)
        try:
            return site_for_url(uri), uri
        except PageError:
            pass
        if self.site is not None:
            return self.site, uri
        hint = record.header(SITE_HEADER)
        if hint and hint in all_sites():
            return site_named(hint), uri
        return None

    def _wanted(self, record: WarcRecord) -> bool:
        """Whether the record's payload is needed; when not, `record.skipped` says why."""
        record.skipped = self._skip_reason(record)
        return record.skipped is None and record.type == "response"

    def _skip_reason(self, record: WarcRecord) -> str | None:
        kind = record.type
        if kind == "revisit":
            return None
        if kind != "response":
            return "request" if kind == "request" else "other"
        status = record.status
        if status is None or not 200 <= status < 300:
            return "status"
        if self.resolve(record) is None:
            return "no_site"
        ctype = _content_type(record)
        if ctype and not any(t in ctype for t in PAGE_TYPES):
            return "not_page"
        length = record.header("Content-Length")
        if length and length.isdigit() and int(length) > MAX_PAYLOAD:
            return "too_large"
        return None

    def captures(
        self, path: str, on_record: Callable[[], None] | None = None, pool: ParsePool | None = None
    ) -> Iterator[Capture | Damage]:
        """The captures of one WARC file, in file order, and a Damage for each damaged record.
        NotWarc when the file is not a WARC file. `on_record` is called after every record
        (for a progress line). `pool`: the processes that run the parsers (default: this one)."""
        from reviewhoard.hoard.parse_pool import ParsePool

        for item, read in (pool or ParsePool(1)).map(self.pending(path, on_record)):
            if isinstance(item, Damage):
                yield item
                continue
            assert read is not None
            capture = self.finish(item, read)
            if capture is not None:
                yield capture

    def pending(
        self, path: str, on_record: Callable[[], None] | None = None
    ) -> Iterator[tuple[Damage | PendingRecord, PageTask | None]]:
        """The reading half of `captures()`: each damage (without a task), and each record to
        archive with the task that runs its parser; give each record's result to `finish()`,
        in this order. NotWarc when the file is not a WARC file."""
        self.tally.files += 1
        reader = WarcReader(path, self._wanted)
        self.reader = self._readers[path] = reader
        try:
            for item in reader:
                self.tally.records += 1
                if on_record is not None:
                    on_record()
                if isinstance(item, Damage):
                    self.tally.damaged += 1
                    yield item, None
                    continue
                if item.skipped is not None:
                    self.tally.skipped[item.skipped] += 1
                    continue
                pending = self._pending(path, reader, item)
                if pending is not None:
                    yield pending, pending.task()
        finally:
            self._done_bytes += reader.position
            self.tally.bytes = self._done_bytes
            self.reader = None

    def finish(self, pending: PendingRecord, read: PageRead) -> Capture | None:
        """The capture of a record `pending()` gave, once its parser read it (None when the
        parser refused it, or a revisit's original turned out refused: counted as skipped)."""
        if pending.revisit is not None:
            where = self._original(pending.revisit)
            if where is None:
                self.tally.skipped["revisit_unknown"] += 1
                return None
            if where != pending.location:
                # The original read ahead was not the one kept (one of several of the same
                # payload digest refused): read the kept one, here, as one process would.
                from reviewhoard.hoard.parse_pool import read_task

                assert pending.record is not None
                again = self._revisit_of(pending.record, where)
                if again is None:
                    self.tally.skipped["revisit_unknown"] += 1
                    return None
                pending = again
                read = read_task(pending.task())
        if read.refused is not None:
            self.tally.skipped["refused"] += 1
            return None
        capture = Capture(
            url=pending.url,
            final_url=pending.final_url,
            status=pending.status,
            headers=pending.headers,
            body=pending.body,
            fetched_at=pending.fetched_at,
            site=read.site,
            parser_version=read.parser_version,
            reviews=read.reviews,
            completions=read.completions,
            packed=read.packed,
        )
        if pending.revisit is not None:
            self.tally.revisits += 1
        else:
            for key in pending.keys:
                self.originals[key] = pending.location
        self.tally.archived += 1
        self.tally.reviews += len(capture.reviews)
        return capture

    def _original(self, keys: tuple[str | None, ...]) -> tuple[str, int] | None:
        """Where the response a revisit names was imported (kept by its parser), if it was."""
        for key in keys:
            if key and key in self.originals:
                return self.originals[key]
        return None

    def _pending(self, path: str, reader: WarcReader, record: WarcRecord) -> PendingRecord | None:
        if record.type == "revisit":
            return self._revisit(path, reader, record)
        if record.body is None:
            return None
        pending = self._read(record, record, record.http)
        if pending is not None:
            pending.location = (path, record.offset)
            pending.keys = tuple(
                key
                for key in (record.header("WARC-Payload-Digest"), record.header("WARC-Record-ID"))
                if key
            )
            for key in pending.keys:
                self.sent[key] = pending.location
        return pending

    def _revisit(self, path: str, reader: WarcReader, record: WarcRecord) -> PendingRecord | None:
        """A revisit: the earlier payload it names, seen again at the revisit's date. Read ahead
        of the original's own result (parsers may still be reading it): `finish()` checks that
        the original was kept."""
        keys = (record.header("WARC-Refers-To"), record.header("WARC-Payload-Digest"))
        where = next((self.sent[key] for key in keys if key and key in self.sent), None)
        if where is None:
            self.tally.skipped["revisit_unknown"] += 1
            return None
        pending = self._revisit_of(record, where)
        if pending is None:
            self.tally.skipped["revisit_unknown"] += 1
        return pending

    def _revisit_of(self, record: WarcRecord, where: tuple[str, int]) -> PendingRecord | None:
        """The revisit `record` holding the payload of the response at `where`."""
        source = self._readers.get(where[0]) or WarcReader(where[0], lambda r: True)
        original = source.record_at(where[1])
        if original is None or original.body is None:
            return None
        # The revisit's own HTTP headers when it kept them (a 304 answers for the original).
        http = record.http if record.http is not None and record.status == 200 else original.http
        pending = self._read(record, original, http)
        if pending is not None:
            pending.revisit = (
                record.header("WARC-Refers-To"),
                record.header("WARC-Payload-Digest"),
            )
            pending.location = where
            pending.record = record
        return pending

    def _read(
        self, record: WarcRecord, payload: WarcRecord, http: StatusAndHeaders | None
    ) -> PendingRecord | None:
        """The page of `record` (its URL and date) holding `payload`'s body, for its parser."""
        resolved = self.resolve(record)
        fetched = warc_date(record.header("WARC-Date"))
        if resolved is None or payload.body is None or fetched is None or http is None:
            self.tally.skipped["no_site" if resolved is None else "other"] += 1
            return None
        site, url = resolved
        return PendingRecord(
            site=site.key,
            url=url,
            final_url=record.header(FINAL_URL_HEADER) or record.uri,
            status=int(http.get_statuscode() or 200),
            headers=_flat_headers(http, payload.decoded),
            body=payload.body,
            fetched_at=fetched,
        )


@dataclass(slots=True)
class PendingRecord:
    """A record to archive, read and waiting for its parser's result (it stays in the main
    process: only `task()` travels to a worker)."""

    site: str
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)
    fetched_at: str
    location: tuple[str, int] = ("", 0)
    """(file, offset) of the response whose payload this is."""
    keys: tuple[str, ...] = ()
    """A response's payload digest and record id: what later revisits may name."""
    revisit: tuple[str | None, ...] | None = None
    """A revisit's WARC-Refers-To and payload digest (None for a response)."""
    record: WarcRecord | None = field(default=None, repr=False)
    """A revisit's own record (to read its original again if need be)."""

    def task(self) -> PageTask:
        """What its parser needs."""
        from reviewhoard.hoard.parse_pool import PageTask

        # A response's body is packed for its `pages` row by the worker; a revisit's is stored
        # already (its original's).
        return PageTask(self.body, self.url, self.site, pack=self.revisit is None)
