"""`hoard crawl --warc DIR` / `warc = "DIR"`: the downloader middleware that keeps every response
in rolling WARC files, one exchange at a time; the option and watchlist key that turn it on."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from reviewhoard.hoard.commands.update import crawl_specs
from reviewhoard.hoard.config import load_config
from reviewhoard.hoard.errors import UsageError
from reviewhoard.hoard.warc_sniff import is_warc_path
from reviewhoard.middlewares.warc_writer import (
    MIDDLEWARE,
    PRIORITY,
    WarcWriterMiddleware,
    with_warc_writer,
)
from reviewhoard.spiders.named import SPIDERS
from tests.warc.helpers import BEBOP_URL, NEW, chunked, hoard, rows, warcio_check

MalSpider = SPIDERS["mal"]


def middleware(settings: dict, **spider_args: Any) -> WarcWriterMiddleware:
    crawler = get_crawler(MalSpider, settings)
    crawler.spider = MalSpider(anime="1", **spider_args)
    crawler.spider.crawler = crawler
    return WarcWriterMiddleware.from_crawler(crawler)


def exchange(url: str, body: bytes, **headers: str) -> tuple[Request, HtmlResponse]:
    request = Request(url, headers={"User-Agent": "reviewhoard-test", "Accept-Encoding": "gzip"})
    response = HtmlResponse(url, status=200, headers=headers, body=body, request=request)
    return request, response


def test_a_gzipped_chunked_answer_is_kept_as_it_arrived(mal_fixtures: Path, tmp_path: Path):
    page = (mal_fixtures / f"{NEW}.html").read_bytes()
    sent = gzip.compress(page)
    mw = middleware({"HOARD_WARC_DIR": str(tmp_path / "warcs")})
    request, response = exchange(
        BEBOP_URL,
        sent,
        **{"Content-Encoding": "gzip", "Transfer-Encoding": "chunked", "Content-Type": "text/html"},
    )
    assert mw.process_response(request, response) is response
    [open_file] = list((tmp_path / "warcs").iterdir())
    assert open_file.name.endswith(".warc.gz.open")
    # Flushed record by record: what a killed crawl leaves is read as a WARC as it is.
    assert is_warc_path(str(open_file)) and warcio_check(open_file).returncode == 0
    mw.spider_closed()
    [path] = list((tmp_path / "warcs").iterdir())
    assert path.name == open_file.name.removesuffix(".open")
    assert path.name.startswith("reviewhoard-myanimelist-")
    check = warcio_check(path)
    assert check.returncode == 0, check.stdout + check.stderr
    with open(path, "rb") as handle:
        got = [
            (r.rec_type, r.http_headers, r.raw_stream.read(), r.content_stream)
            for r in ArchiveIterator(handle)
        ]
    assert [g[0] for g in got] == ["warcinfo", "response", "request"]
    http = got[1][1]
    assert http.get_header("Content-Encoding") == "gzip"
    assert http.get_header("X-Crawler-Transfer-Encoding") == "chunked"
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("Content-Length") == str(len(sent))
    assert got[1][2] == sent  # the payload as transferred
    asked = got[2][1]
    assert asked.protocol == "GET" and asked.statusline == "/anime/1/Cowboy_Bebop/reviews HTTP/1.1"
    assert asked.get_header("Host") == "myanimelist.net"
    assert asked.get_header("User-Agent") == "reviewhoard-test"
    db = tmp_path / "archive.db"
    done = hoard("import", str(path), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert rows(db, "SELECT url, body_size, headers FROM pages") == [
        (
            BEBOP_URL,
            len(page),
            json.dumps({"content-type": "text/html", "transfer-encoding": "chunked"}),
        )
    ]
    assert rows(db, "SELECT count(*) FROM reviews") == [(20,)]


def test_files_roll_at_their_size_and_each_opens_with_warcinfo(mal_fixtures, tmp_path):
    page = (mal_fixtures / f"{NEW}.html").read_bytes()
    mw = middleware(
        {"HOARD_WARC_DIR": str(tmp_path / "setting"), "HOARD_WARC_MAX_BYTES": 50_000},
        warc=str(tmp_path / "arg"),
    )
    for n in range(3):
        mw.process_response(*exchange(f"{BEBOP_URL}?p={n + 1}", page + b" " * n))
    mw.spider_closed()
    assert not (tmp_path / "setting").exists()  # the spider's own folder wins
    files = sorted((tmp_path / "arg").iterdir())
    assert [f.name[-13:] for f in files] == ["00001.warc.gz", "00002.warc.gz", "00003.warc.gz"]
    for n, path in enumerate(files):
        assert warcio_check(path).returncode == 0
        with open(path, "rb") as handle:
            kinds = [
                (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
                for r in ArchiveIterator(handle)
            ]
        assert kinds == [
            ("warcinfo", None),
            ("response", f"{BEBOP_URL}?p={n + 1}"),
            ("request", f"{BEBOP_URL}?p={n + 1}"),
        ]


def test_off_without_a_folder_and_placed_next_to_the_downloader():
    with pytest.raises(NotConfigured):
        middleware({})
    settings = with_warc_writer({"DOWNLOAD_DELAY": "0"})
    chain = settings["DOWNLOADER_MIDDLEWARES"]
    assert chain[MIDDLEWARE] == PRIORITY == 950
    assert chain["reviewhoard.middlewares.rebase.RebaseMiddleware"] == 40
    assert chain["reviewhoard.middlewares.retry_after.RetryAfterMiddleware"] == 560
    assert settings["DOWNLOAD_DELAY"] == "0"


def test_crawl_option_and_watchlist_key(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = hoard(
        "crawl",
        "mal",
        "--anime",
        "1",
        "--warc",
        str(blocker / "sub"),
        "--db",
        str(tmp_path / "a.db"),
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith(f"hoard: --warc {blocker / 'sub'}: cannot create the folder (")
    assert not (tmp_path / "a.db").exists()
    config = tmp_path / "hoard.toml"
    config.write_text(
        '[[watch]]\nsite = "mal"\nanime = [1]\nwarc = "warcs"\n'
        '[[watch]]\nsite = "mal"\nmanga = [1]\n'
        '[[watch]]\nsite = "steam"\napp = [620]\n'
    )
    specs = crawl_specs(load_config(config))
    assert specs == [
        (
            "myanimelist",
            {"anime": "1", "manga": "1", "mode": "update", "warc": str(tmp_path / "warcs")},
        ),
        ("steam", {"app": "620", "mode": "update"}),
    ]
    config.write_text(
        '[[watch]]\nsite = "mal"\nanime = [1]\nwarc = "a"\n'
        '[[watch]]\nsite = "mal"\nmanga = [1]\nwarc = "b"\n'
    )
    with pytest.raises(UsageError, match="name different warc folders \\(a, b\\); name one"):
        crawl_specs(load_config(config))
    config.write_text('[[watch]]\nsite = "mal"\nanime = [1]\nwarc = 3\n')
    with pytest.raises(UsageError, match=r"hoard.toml:4: 'warc' must be a folder in quotes"):
        load_config(config)


def test_chunked_helper_round_trips():
    assert chunked(b"abcdef", 4) == b"4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n"
