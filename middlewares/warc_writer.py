"""`hoard crawl ... --warc DIR`: every response the crawl fetches, also kept in WARC files.

A downloader middleware placed next to the downloader (`PRIORITY`), so it sees each response as it
arrived, before Scrapy undoes its Content-Encoding, retries a 429 or follows a redirect: every
answer (robots.txt, redirects, 429s and errors included) is written, as a `response` record with
the `request` record that asked for it. The body keeps its Content-Encoding, so the record holds
the payload as transferred; only the chunking, which the HTTP client undid, is renamed
(`X-Crawler-Transfer-Encoding`) and Content-Length made true.

Files roll at `HOARD_WARC_MAX_BYTES` (1 GB): `reviewhoard-SITE-TIMESTAMP-PID-00001.warc.gz`,
one gzip member per record, each opening with a `warcinfo` record. A file being written ends in
`.open` and is renamed when it is complete (rolled, or the crawl ended), as Heritrix does.

The folder is the spider's `warc` argument (a `[[watch]]`'s `warc = "DIR"`), else the
`HOARD_WARC_DIR` setting (`hoard crawl --warc DIR`); without either the middleware is off.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders

from reviewhoard.hoard.warc_output import WarcOutput, raw_http_headers
from reviewhoard.items import utc_now

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

MIDDLEWARE = "reviewhoard.middlewares.warc_writer.WarcWriterMiddleware"
PRIORITY = 950
"""After every project and Scrapy middleware that changes a response (compression 590, retries
550/560, redirects 600, stats 850), before none: it sees what the downloader got."""
DIR_SETTING = "HOARD_WARC_DIR"
SIZE_SETTING = "HOARD_WARC_MAX_BYTES"
DEFAULT_MAX_BYTES = 1_000_000_000


def warc_folder(path: str) -> str:
    """The folder WARC files go to, created if missing, as an absolute path; ValueError says
    why it cannot be used."""
    folder = Path(path).expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise ValueError("the folder is not writable")
    return str(folder)


def with_warc_writer(overrides: dict[str, Any]) -> dict[str, Any]:
    """Settings overrides with this middleware added to the project's downloader middlewares
    (and any the overrides already set)."""
    from reviewhoard.hoard.crawl.run import project_settings

    current = project_settings(overrides).getdict("DOWNLOADER_MIDDLEWARES")
    return {**overrides, "DOWNLOADER_MIDDLEWARES": {**current, MIDDLEWARE: PRIORITY}}


def _pairs(headers: Any) -> list[tuple[str, str]]:
    """Scrapy headers as (name, value) pairs, one per value, as they were sent."""
    out: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


class RollingWarc:
    """WARC files in a folder that roll over at `max_bytes`, each opened by a warcinfo record."""

    def __init__(self, folder: str, prefix: str, max_bytes: int, info: dict[str, str]) -> None:
        self.folder = Path(folder)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.info = info
        self.stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        self.serial = 0
        self.handle: Any = None
        self.output: WarcOutput | None = None
        self.path: Path | None = None
        self.finished: list[Path] = []
        """Files written whole so far."""

    def _open(self) -> WarcOutput:
        self.serial += 1
        name = f"{self.prefix}-{self.stamp}-{os.getpid()}-{self.serial:05d}.warc.gz"
        self.path = self.folder / name
        self.handle = open(self.folder / (name + ".open"), "wb")  # noqa: SIM115 - closed by close()
        self.output = WarcOutput(self.handle)
        self.output.warcinfo(name, self.info)
        return self.output

    def current(self) -> WarcOutput:
        """The file to write the next records to (a new one once the last reached its size)."""
        if self.output is not None and self.output.written >= self.max_bytes:
            self.close()
        return self.output or self._open()

    def close(self) -> None:
        """Finish the file being written: flushed, closed, renamed without `.open`."""
        if self.output is None or self.path is None:
            return
        self.output.flush()
        self.handle.close()
        os.replace(self.path.with_name(self.path.name + ".open"), self.path)
        self.finished.append(self.path)
        self.output = self.handle = None


class WarcWriterMiddleware:
    """Downloader middleware: every response, with its request, into rolling WARC files."""

    def __init__(self, crawler: Crawler, folder: str) -> None:
        self.crawler = crawler
        spider = crawler.spider
        site = str(getattr(spider, "site_key", None) or getattr(spider, "name", "crawl"))
        info = {
            "description": f"Responses fetched by a reviewhoard crawl of {site}",
            "hostname": socket.gethostname(),
            "http-header-user-agent": str(crawler.settings.get("USER_AGENT") or ""),
            "robots": "obey" if crawler.settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        }
        max_bytes = crawler.settings.getint(SIZE_SETTING, DEFAULT_MAX_BYTES)
        self.files = RollingWarc(folder, f"reviewhoard-{site}", max_bytes, info)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcWriterMiddleware:
        folder = getattr(crawler.spider, "warc", None) or crawler.settings.get(DIR_SETTING)
        if not folder:
            raise NotConfigured
        middleware = cls(crawler, warc_folder(str(folder)))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        """Write the exchange; the response goes on unchanged."""
        try:
            self.write(request, response)
        except OSError as exc:
            # A full disk must not lose the crawl itself: the archive still gets the page.
            logger.error("WARC file %s could not be written: %s", self.files.path, exc)
        return response

    def write(self, request: Request, response: Response) -> None:
        """A `response` record of what arrived and the `request` record that asked for it."""
        date = utc_now()
        body = response.body
        protocol = getattr(response, "protocol", None) or "HTTP/1.1"
        http = raw_http_headers(response.status, _pairs(response.headers), len(body), protocol)
        extra = {}
        ip = getattr(response, "ip_address", None)
        if ip is not None:
            extra["WARC-IP-Address"] = str(ip)
        out = self.files.current()
        rid = out.response(response.url, date, http, body, extra=extra)
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = [("Host", parts.netloc), *_pairs(request.headers)]
        statusline = f"{request.method} {target} HTTP/1.1"
        asked = StatusAndHeaders(statusline, sent, is_http_request=True)
        out.request(request.url, date, asked, concurrent_to=rid, body=request.body or b"")
        out.flush()
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("hoard/warc/records", 2)

    def spider_closed(self) -> None:
        """The crawl ended: the last file is made whole."""
        self.files.close()
        for path in self.files.finished:
            logger.info("WARC file written: %s", path)
