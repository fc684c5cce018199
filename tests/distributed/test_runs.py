"""Runs over Redis behave as local runs do: the writer holds the archive's lock (a local crawl or
a second writer exits 75), one run at a time, the same exit status and stop line on a layout
change; requests are deduplicated across workers; update mode asks what the writer published,
not a file; a capture written twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.hoard.distributed import keys
from reviewhoard.hoard.distributed.frontier import JobFrontier, Outgoing
from reviewhoard.hoard.distributed.link import RedisLink
from reviewhoard.hoard.distributed.writer import Writer
from reviewhoard.items import Capture
from reviewhoard.sites import site_named
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.distributed.support import (
    FAST,
    RedisServer,
    feed_ids,
    page_paths,
    picture,
    rows,
    run,
    settings_args,
    start,
    stop_all,
    wait_until,
)

pytestmark = pytest.mark.slow


def crawl(site: ScratchSite, server: RedisServer, folder: Path, *args: str) -> list[str]:
    return [
        "crawl", "mal", *args, "--db", "archive.db", "--base-url", site.url,
        *settings_args(FAST), "--redis", server.url,
    ]  # fmt: skip


def test_the_writer_holds_the_lock_and_one_run_goes_at_a_time(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    with ScratchSite(tmp_path / "site", mal_fixtures) as site:
        site.publish({("anime", 1): feed_ids(1, 40)})
        writer = start("write", "--redis", server.url, "--db", "archive.db", cwd=tmp_path)
        try:
            wait_until(lambda: server.client().hget(keys.WRITER, "ready"), 30, "writer", [writer])
            local = run("crawl", "mal", "--anime", "1", "--db", "archive.db", "--base-url",
                        site.url, cwd=tmp_path)  # fmt: skip
            assert local.returncode == 75
            assert local.stderr.startswith("hoard: another run holds the archive (pid ")
            second = run("write", "--redis", server.url, "--db", "archive.db", cwd=tmp_path)
            assert second.returncode == 75
            assert f"pid {writer.pid}" in second.stderr
            # No worker yet: the first run waits in the frontier, a second one is refused.
            first = start(*crawl(site, server, tmp_path, "--anime", "1"), cwd=tmp_path)
            wait_until(lambda: server.client().get(keys.RUN_LOCK), 30, "submitted", [first])
            refused = run(*crawl(site, server, tmp_path, "--anime", "1"), cwd=tmp_path)
            assert refused.returncode == 75
            assert refused.stderr.startswith("hoard: another run (r1) is still being crawled")
            assert page_paths(site.take_log()) == []
            worker = start("worker", "--redis", server.url, "--exit-when-idle", cwd=tmp_path)
            assert first.wait(60) == 0, first.communicate()
            assert worker.wait(60) == 0, worker.communicate()
            assert "1 feed(s), 2 page(s), 40 review(s) (40 new" in first.communicate()[0]
        finally:
            results = stop_all([writer])
            server.stop(kill=True)
    assert results[0][0] == 143, results
    assert rows(tmp_path / "archive.db", "SELECT outcome FROM crawls") == [("ok",)]


def test_a_layout_change_stops_every_worker_with_the_local_exit_status(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    feeds = {("anime", t): feed_ids(t, 60) for t in (1, 2)}
    with ScratchSite(tmp_path / "site", mal_fixtures) as site:
        site.publish(feeds, without_blocks=True)
        try:
            over = run(*crawl(site, server, tmp_path, "--anime", "1,2", "--workers", "2"),
                       cwd=tmp_path)  # fmt: skip
        finally:
            server.stop(kill=True)
        local = run("crawl", "mal", "--anime", "1,2", "--db", "local.db", "--base-url",
                    site.url, *settings_args(FAST), cwd=tmp_path)  # fmt: skip
    assert over.returncode == local.returncode == 3, (over.stderr, local.stderr)
    last = over.stderr.strip().splitlines()[-1]
    assert last.startswith("hoard: crawl stopped (layout_changed): anime:")
    assert last.split(": ", 2)[2].split(" page ")[0] in local.stderr
    assert rows(tmp_path / "archive.db", "SELECT outcome, finish_reason FROM crawls") == [
        ("alarm", "layout_changed")
    ]
    assert rows(tmp_path / "archive.db", "SELECT count(*) FROM pages") == [(2,)]  # kept raw


def test_requests_are_deduplicated_across_workers(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        link = RedisLink(server.url, "test")
        r = server.client()
        r.hset(keys.job("r1.1"), mapping={"run": "r1", "queued": 0, "done": 0})
        one = JobFrontier(link, "r1.1", "r1", "a", 5)
        two = JobFrontier(link, "r1.1", "r1", "b", 5)
        same = Outgoing("127.0.0.1", b'{"url": "u"}', b"f" * 20)
        other = Outgoing("127.0.0.1", b'{"url": "v"}', b"g" * 20)
        again = Outgoing("127.0.0.1", b'{"url": "u"}', None)  # dont_filter: never deduplicated
        one.commit(None, [], [same, same], {}, {})
        two.commit(None, [], [same, other, again], {}, {})
        stream = keys.queue("r1.1", "127.0.0.1")
        entries: Any = r.xrange(stream)
        bodies = [fields[b"req"] for _, fields in entries]
        assert bodies == [b'{"url": "u"}', b'{"url": "v"}', b'{"url": "u"}']
        assert r.hget(keys.job("r1.1"), "queued") == b"3"
        taken = [one.take("127.0.0.1"), two.take("127.0.0.1"), one.take("127.0.0.1")]
        assert [e.data for e in taken if e] == bodies  # each to one worker only
        assert one.take("127.0.0.1") is None and two.take("127.0.0.1") is None
    finally:
        server.stop(kill=True)


def test_update_mode_asks_what_the_writer_published_not_a_file(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    archive = tmp_path / "archive"
    elsewhere = tmp_path / "elsewhere"  # the workers' machine: no archive file there
    archive.mkdir()
    elsewhere.mkdir()
    feeds = {("anime", t): feed_ids(t, 60) for t in (1, 2)}
    with ScratchSite(tmp_path / "site", mal_fixtures) as site:
        site.publish(feeds)
        writer = start("write", "--redis", server.url, "--db", "archive.db", cwd=archive)
        workers = [start("worker", "--redis", server.url, cwd=elsewhere) for _ in range(2)]
        try:
            full = run(*crawl(site, server, archive, "--anime", "1,2", "--mode", "full"),
                       cwd=archive)  # fmt: skip
            assert full.returncode == 0, full.stderr
            assert len(page_paths(site.take_log())) == 6
            assert server.client().hlen(keys.known("myanimelist")) == 120
            site.publish({**feeds, ("anime", 1): [19_999, *feeds[("anime", 1)]]})  # one new
            update = run(*crawl(site, server, archive, "--anime", "1,2"), cwd=archive)
            assert update.returncode == 0, update.stderr
            asked = page_paths(site.take_log())
        finally:
            results = stop_all([writer, *workers])
            server.stop(kill=True)
    assert "2 feed(s), 3 page(s), 60 review(s) (1 new, 0 updated, 59 unchanged)" in update.stdout
    # anime 1: its first page has the new review, its second is all known; anime 2: one page.
    assert sorted(asked) == [
        "/anime/1/_/reviews?sort=newest&preliminary=on&spoiler=on&p=1",
        "/anime/1/_/reviews?sort=newest&preliminary=on&spoiler=on&p=2",
        "/anime/2/_/reviews?sort=newest&preliminary=on&spoiler=on&p=1",
    ]
    assert not list(elsewhere.glob("*.db"))
    assert all(s == 143 for s, _, _ in results), results


def test_a_capture_written_twice_changes_nothing(tmp_path: Path, mal_fixtures: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    db = tmp_path / "archive.db"
    body = (mal_fixtures / "anime-1-reviews-2022-10.html").read_bytes()
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    parsed = site_named("mal").parser.parse(body, url)
    capture = Capture(url, url, 200, {}, body, "2026-01-01T00:00:00.000001Z", "myanimelist",
                      "1", feed="anime:1", page=1, reviews=parsed.reviews)  # fmt: skip
    try:
        link = RedisLink(server.url, "test")
        r = server.client()
        r.hset(keys.run("r1"), mapping={"command": "hoard crawl mal", "jobs": json.dumps([]),
                                        "captures": 2, "written": 0})  # fmt: skip
        writer = Writer(link, db, exit_when_idle=True, stream=open("/dev/null", "w"))  # noqa: SIM115
        entry = {b"run": b"r1", b"job": b"r1.1", b"kind": b"capture", b"data": capture.to_bytes()}
        writer._write([(b"1-1", entry)])
        once = picture(db)
        writer._write([(b"1-2", entry)])  # handed again (a writer killed before its XACK)
        writer.runs["r1"].writer.close()
        writer2 = Writer(link, db, exit_when_idle=True, stream=open("/dev/null", "w"))  # noqa: SIM115
        writer2._write([(b"1-3", entry)])  # and again, to a writer started afresh
        writer2.runs["r1"].writer.close()
    finally:
        server.stop(kill=True)
    assert picture(db) == once
    assert len(once["reviews"]) == len(parsed.reviews) > 0
    assert once["pages"][0][3] == 1  # fetched once
    assert rows(db, "SELECT count(*) FROM crawls") == [(1,)]
