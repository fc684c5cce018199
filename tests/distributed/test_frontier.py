"""The frontier's parts against a real Redis, without crawling: the captures' wire format
(lossless, the body as is, the first format still read), the writer letting written captures go,
a dead worker's requests claimed after the visibility timeout though takes look for them only now
and then, and what a host's lease answers (taken, in flight, the delay's time left, a pause's)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from reviewhoard.hoard.distributed import keys
from reviewhoard.hoard.distributed.frontier import JobFrontier, Outgoing
from reviewhoard.hoard.distributed.link import RedisLink
from reviewhoard.hoard.distributed.wire import ENCODING, capture_fields, item_fields, read_capture
from reviewhoard.hoard.distributed.writer import Writer
from reviewhoard.items import Capture, FeedWalked
from reviewhoard.parsers.page import TextCompletion
from reviewhoard.sites import site_named
from tests.distributed.support import RedisServer, rows

URL = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"


@pytest.fixture
def capture(mal_fixtures: Path) -> Capture:
    body = (mal_fixtures / "anime-1-reviews-2022-10.html").read_bytes()
    parsed = site_named("mal").parser.parse(body, URL)
    return Capture(
        URL, "http://127.0.0.1:1/anime/1/_/reviews?p=1", 200, {"content-type": "text/html"},
        body, "2026-01-01T00:00:00.000001Z", "myanimelist", "7", feed="anime:1", page=1,
        reviews=parsed.reviews, completions=[TextCompletion("myanimelist", "42", "whole text")],
    )  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path / "redis").start()
    yield redis
    redis.stop(kill=True)


def as_read(fields: Mapping[str, str | bytes]) -> dict[bytes, bytes]:
    """The fields as redis-py hands them back from a stream."""
    return {k.encode(): v.encode() if isinstance(v, str) else v for k, v in fields.items()}


def test_a_capture_crosses_redis_whole_and_small(capture: Capture) -> None:
    fields = capture_fields(capture)
    assert fields["enc"] == ENCODING
    back = read_capture(as_read(fields))
    assert back.body == capture.body
    assert back.reviews == capture.reviews and len(back.reviews) == 20
    assert back.completions == capture.completions
    for name in ("url", "final_url", "status", "headers", "fetched_at", "site", "parser_version",
                 "feed", "page", "refused"):  # fmt: skip
        assert getattr(back, name) == getattr(capture, name), name
    assert fields["body"] is capture.body  # as received: not base64'd, not escaped into JSON
    assert b"DOCTYPE" in capture.body and b"DOCTYPE" not in fields["data"]
    assert len(fields["data"]) + len(capture.body) < len(capture.to_bytes()) * 0.85


def test_the_first_format_is_still_read_and_an_unknown_one_refused(capture: Capture) -> None:
    old = {b"kind": b"capture", b"data": capture.to_bytes()}
    back = read_capture(old)
    assert back.body == capture.body and back.reviews == capture.reviews
    with pytest.raises(ValueError, match="'2'"):
        read_capture({**as_read(capture_fields(capture)), b"enc": b"2"})
    walked = FeedWalked("myanimelist", "anime:1", "anime", "1", ["1", "2"], "2026-01-01T00:00:00Z")
    assert item_fields(walked) == {"kind": "walked", "data": walked.to_bytes()}


def test_the_writer_lets_written_captures_go(
    tmp_path: Path, server: RedisServer, capture: Capture
) -> None:
    r = server.client()
    r.hset(keys.run("r1"), mapping={"command": "hoard crawl mal", "jobs": json.dumps([]),
                                    "captures": 1, "written": 0})  # fmt: skip
    r.xadd(keys.CAPTURES, {"run": "r1", "job": "r1.1", **item_fields(capture)})  # type: ignore[dict-item]
    db = tmp_path / "archive.db"
    with open("/dev/null", "w") as quiet:
        writer = Writer(RedisLink(server.url, "test"), db, exit_when_idle=True, stream=quiet)
        writer.link.call(writer._make_group)
        entries = writer._read_new(block=False)
        assert len(entries) == 1
        writer._write(entries)
        writer.runs["r1"].writer.close()
    assert rows(db, "SELECT count(*) FROM reviews") == [(20,)]
    assert r.hget(keys.run("r1"), "written") == b"1"
    assert r.xlen(keys.CAPTURES) == 0  # written, acknowledged, and gone from Redis' memory
    assert r.xpending(keys.CAPTURES, keys.WRITER_GROUP)["pending"] == 0


def test_a_dead_workers_request_is_claimed_after_the_visibility_timeout(
    server: RedisServer,
) -> None:
    link = RedisLink(server.url, "test")
    server.client().hset(keys.job("r1.1"), mapping={"run": "r1", "queued": 0, "done": 0})
    visibility = 0.6
    dead = JobFrontier(link, "r1.1", "r1", "dead", visibility)
    alive = JobFrontier(link, "r1.1", "r1", "alive", visibility)
    dead.commit(None, [], [Outgoing("h", b'{"url": "a"}', b"a" * 20)], {}, {})
    taken = dead.take("h")
    assert taken is not None and taken.data == b'{"url": "a"}'
    assert alive.take("h") is None  # held by a worker that may still be alive
    time.sleep(visibility + 0.1)
    again = alive.take("h")
    assert again is not None
    assert (again.id, again.data, again.deliveries) == (taken.id, taken.data, 2)
    assert alive.take("h") is None


def test_a_hosts_lease_says_how_long_to_wait(server: RedisServer) -> None:
    link = RedisLink(server.url, "test")
    one = JobFrontier(link, "r1.1", "r1", "one", 60)
    two = JobFrontier(link, "r1.1", "r1", "two", 60)
    assert one.acquire("h", "t1") == 0
    assert two.acquire("h", "t2") == -1  # in flight: its end is not known
    one.release("h", "t2", 0.5)  # not the holder's token: changes nothing
    assert two.acquire("h", "t2") == -1
    one.release("h", "t1", 0.5)
    left = two.acquire("h", "t2")
    assert 0 < left <= 500  # the delay's time left
    one.pause("h", 3)
    assert 2000 < two.acquire("h", "t2") <= 3000  # a 429's pause comes first
    server.client().delete(keys.pause("h"), keys.lease("h"))
    assert two.acquire("h", "t2") == 0
