"""Issue 10's data items that had no test through the real command: a write that fails because
another program holds the archive, `hoard update` on a full disk, a redirect off the site,
`hoard import -` fed more than 16 MB, and `hoard serve` bounding a huge or a slow query.
Every case runs the real `hoard` in a process of its own against loopback servers."""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reviewhoard.archive.connection import BUSY_TIMEOUT_ENV
from reviewhoard.archive.store import open_archive
from reviewhoard.hoard.commands.extract import PAGE_LIMIT
from reviewhoard.hoard.commands.serve import SETTINGS
from reviewhoard.replay.harness import FAST_SETTINGS, hoard_executable, run_crawl
from reviewhoard.replay.manifest import Fault, Route
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from reviewhoard.sites.myanimelist.synth import write_site
from tests.e2e.site_replay import SiteReplay
from tests.e2e.update_support import rows, run_hoard, write_config
from tests.serving import ROOT, hoard_serve

pytestmark = pytest.mark.slow

TAB = "https://myanimelist.net/anime/1/_/reviews?sort=newest&preliminary=on&spoiler=on&p={}"
"""The canonical address of page N of anime 1's reviews, as the crawl stores it."""


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def feed_complete(db: Path, crawl_id: int, feed: str) -> object:
    """`complete` of `feed` in that crawl's `crawls.feeds` (0/1 as SQLite's JSON gives it)."""
    path = f'$."{feed}".complete'
    found = rows(db, "SELECT json_extract(feeds, ?) FROM crawls WHERE id = ?", path, crawl_id)
    assert len(found) == 1, found
    return found[0][0]


def hoard_lines(stderr: str) -> list[str]:
    """The lines `hoard` itself printed on stderr (the others are Scrapy's log at ERROR)."""
    return [line for line in stderr.splitlines() if line.startswith("hoard: ")]


def stderr_lines(stderr: str) -> list[str]:
    """Every line of stderr, log lines without their time stamp."""
    return [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", line) for line in stderr.splitlines()]


# -- item 1: a write that fails is a failed run -----------------------------------------------


def test_another_program_holding_the_archive_past_the_busy_timeout_fails_the_crawl(
    site: ScratchSite, tmp_path: Path
) -> None:
    """Another connection takes `BEGIN IMMEDIATE` after pages 1 and 2 are stored and keeps it
    until the crawl ends: page 3's write waits out the (shortened) busy timeout, the crawl exits
    74 with one line, anime 1's feed stays incomplete, and the next run fetches the rest."""
    db = tmp_path / "archive.db"
    ids = list(range(30_000, 29_000, -1))  # 50 pages
    # A page is written when the next one arrives (a batch of 20 ends at a page boundary):
    # pages 1 and 2 are stored once page 3 is in, and page 4 comes 3 s later, time to take the
    # archive before page 3 is written.
    site.publish({("anime", 1): ids}, faults={("anime", 1, 4): [Fault("delay", seconds=3)]})
    cmd = [*hoard_executable(), "crawl", "mal", "--anime", "1", "--db", str(db),
           "--base-url", site.url]  # fmt: skip
    for name, value in {**FAST_SETTINGS, "HOARD_STORE_BATCH": "20"}.items():
        cmd += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if k != "HOARD_DB" and not k.endswith("_BASE_URL")}
    env[BUSY_TIMEOUT_ENV] = "500"
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    holder: sqlite3.Connection | None = None
    try:
        deadline = time.monotonic() + 30
        while not (db.exists() and rows(db, "SELECT count(*) FROM reviews") == [(40,)]):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "pages 1 and 2 were never stored"
            time.sleep(0.02)
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        out, err = proc.communicate(timeout=60)
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 74, out + err
    failed = (
        f"archive write failed: another program held the archive past the busy timeout at {db}; "
        f"nothing after {TAB.format(2)} was stored"
    )
    # The crawls row cannot be closed while the other program still holds the archive (a line
    # of Scrapy's log at ERROR says so; the next run closes it as killed), then hoard's line.
    assert stderr_lines(err) == [
        "[reviewhoard.hoard.crawl.supervise] ERROR: the run's crawls row could not be closed "
        "either: database is locked",
        f"hoard: {failed}",
    ]
    assert "<html" not in err and "Traceback" not in err
    assert rows(db, "SELECT count(*) FROM reviews") == [(40,)]
    assert rows(db, "SELECT url FROM pages ORDER BY id") == [(TAB.format(1),), (TAB.format(2),)]
    ((crawl_id, outcome),) = rows(db, "SELECT id, outcome FROM crawls")
    assert outcome == "running"
    assert feed_complete(db, crawl_id, "anime:1") == 0

    # The archive free again: the next run (update mode) does not stop at page 1, it catches up.
    site.publish({("anime", 1): ids})
    again = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert again.returncode == 0, again.stderr
    assert rows(db, "SELECT count(*) FROM reviews") == [(len(ids),)]
    outcomes = rows(db, "SELECT outcome FROM crawls ORDER BY id")
    assert outcomes == [("killed",), ("ok",)]
    assert feed_complete(db, crawl_id + 1, "anime:1") == 1


def test_update_on_a_full_disk_is_one_line_exit_74_and_leaves_the_feed_incomplete(
    site: ScratchSite, small_disk: Path
) -> None:
    """`hoard update` (not only `hoard crawl`) on a real 4 MB tmpfs: exit 74, one line naming the
    disk and what was not stored, no page on stderr, the file intact, the feed incomplete."""
    ids = list(range(30_000, 29_000, -1))  # 1,000 reviews, far more than 4 MB stored
    site.publish({("anime", 1): ids})
    config = write_config(
        small_disk, site.url, '[[watch]]\nsite = "mal"\nanime = [1]\n', "HOARD_STORE_BATCH = 40\n"
    )
    db = small_disk / "archive.db"
    done = run_hoard("update", "--config", str(config), cwd=small_disk)
    assert done.returncode == 74, done.stdout + done.stderr
    lines = stderr_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    assert re.fullmatch(
        f"hoard: archive write failed: disk full at {re.escape(str(db))}; nothing after "
        + re.escape(TAB.format(""))
        + r"\d+ was stored",
        lines[0],
    ), lines[0]
    assert "<html" not in done.stderr and "review-element" not in done.stderr
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = conn.execute("SELECT count(*) FROM reviews").fetchone()[0]
        crawls = conn.execute("SELECT id, outcome FROM crawls").fetchall()
    finally:
        conn.close()
    assert 0 < stored < len(ids)
    assert len(crawls) == 1 and crawls[0][1] in ("failed", "running"), crawls
    assert feed_complete(db, crawls[0][0], "anime:1") == 0


# -- item 3: a redirect off the site ------------------------------------------------------------


def test_a_redirect_off_the_site_fails_the_feed_and_marks_nothing_gone(
    site: ScratchSite, tmp_path: Path, mal_fixtures: Path
) -> None:
    """A full crawl whose page 2 answers 301 to another host: the feed fails (exit 1), one line
    names the redirect, nothing is marked gone, the feed is left incomplete, and the other host
    is never asked. (Scrapy's offsite filter used to drop the redirect without a word, and the
    feed was recorded complete.)"""
    db = tmp_path / "archive.db"
    fifty = list(range(5050, 5000, -1))  # pages of 20, 20, 10
    site.publish({("anime", 1): fifty})
    first = run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal")
    assert first.returncode == 0, first.stderr
    with SiteReplay(tmp_path / "elsewhere") as elsewhere:
        elsewhere.serve("/anime/1/x/reviews", mal_fixtures / "anime-1-reviews-2022-10.html")
        port = elsewhere.url.rsplit(":", 1)[1]
        target = f"http://localhost:{port}/anime/1/x/reviews"  # not the site's host
        site.routes.insert(
            0, Route(path="/anime/1/*/reviews", file="", query={"p": "2"}, redirect=target)
        )
        write_site(site.directory, site.routes, site.robots_txt)
        site.reload()
        result = run_crawl(db, site.url, ["--anime", "1", "--mode", "full"], site="mal")
        asked_elsewhere = elsewhere.served()
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    naming = [line for line in lines if target in line]
    assert len(naming) == 1, result.stderr
    assert naming[0].endswith(
        f"anime:1: {site.url}/anime/1/_/reviews?sort=newest&preliminary=on&spoiler=on&p=2 "
        f"failed: redirected off the site to {target} (HTTP 301); not followed"
    ), naming[0]
    assert hoard_lines(result.stderr) == [
        "hoard: 1 request(s) or item(s) failed; run again with --verbose to see which"
    ]
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert asked_elsewhere == []
    assert rows(db, "SELECT count(*) FROM reviews WHERE gone_at IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT count(*) FROM reviews") == [(50,)]
    ((crawl_id, outcome),) = rows(db, "SELECT id, outcome FROM crawls WHERE id > 1")
    assert outcome == "partial"
    assert feed_complete(db, crawl_id, "anime:1") == 0


# -- item 18: `hoard import -` reads at most 16 MB ------------------------------------------------

PRODUCER = """
import sys
chunk = b"<p>" + b"x" * (65536 - 3)
written = 0
try:
    while written < 64 * 1024 * 1024:
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        written += len(chunk)
except BrokenPipeError:
    pass
with open(sys.argv[1], "w") as out:
    out.write(str(written))
"""
"""Writes up to 64 MB into its stdout 64 KB at a time; records how much the reader took."""


def test_import_from_a_pipe_reads_no_more_than_16_mb(tmp_path: Path) -> None:
    """`hoard import -` with a real process writing 64 MB into the pipe: one line, nothing
    stored, and the writer could hand over no more than 16 MB + 1 byte and what a pipe holds."""
    db = tmp_path / "a.db"
    tally = tmp_path / "written"
    producer = subprocess.Popen(
        [sys.executable, "-c", PRODUCER, str(tally)], stdout=subprocess.PIPE
    )
    assert producer.stdout is not None
    pipe_size = fcntl.fcntl(producer.stdout.fileno(), fcntl.F_GETPIPE_SZ)
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    importer = subprocess.Popen(
        [*hoard_executable(), "import", "-", "--url", url, "--db", str(db)],
        stdin=producer.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    producer.stdout.close()  # the importer holds the only reading end
    out, err = importer.communicate(timeout=60)
    producer.wait(timeout=30)
    assert importer.returncode == 1, err
    assert err.decode().splitlines() == [
        "hoard: -: cannot read the file (over 16 MB, more than any page: not read); check the path"
    ]
    assert out.decode() == (
        f"imported 0 pages: 0 reviews new, 0 updated, 0 unchanged, 0 rejected -> {db}\n"
    )
    written = int(tally.read_text())
    # Everything the importer read plus what the pipe held when it stopped reading: at most
    # 16 MB + 1 byte, one read buffer, the pipe and one chunk in flight; never the 64 MB.
    assert PAGE_LIMIT < written <= PAGE_LIMIT + 1 + 8192 + pipe_size + 65536, written
    assert rows(db, "SELECT count(*) FROM pages") == [(0,)]
    assert rows(db, "SELECT count(*) FROM reviews") == [(0,)]


# -- item 16: `hoard serve` bounds arbitrary SQL -----------------------------------------------

COUNT_TO_1E9 = (
    "with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000000000) "
    "select count(*) from c"
)


def server_pid(port: int) -> int:
    """The pid of the `hoard serve` listening on `port`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and str(port).encode() in argv:
            return int(entry.name)
    raise AssertionError(f"no hoard serve on port {port}")


def peak_memory_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    assert match is not None
    return int(match.group(1))


def test_serve_answers_a_huge_and_a_slow_query_with_errors_and_keeps_answering(
    tmp_path: Path,
) -> None:
    """A real `hoard serve`: `select zeroblob(1e9)` is a quick error without the gigabyte, a
    count to 1e9 stops at the 5 s limit while other queries are answered, at most 1,000 rows
    come back, as the README says."""
    db = tmp_path / "archive.db"
    open_archive(db).close()
    readme = (ROOT / "README.md").read_text("utf-8")
    # What the README promises is what `hoard serve` sets.
    assert "zeroblob(1e9)` is an error" in readme
    assert SETTINGS["sql_time_limit_ms"] == 5000 and "queries stop after 5 s" in readme
    assert "return at most\n1,000 rows" in readme
    with hoard_serve(db) as url:
        pid = server_pid(int(url.split(":")[2].split("/")[0]))

        def ask(sql: str, timeout: float = 30) -> httpx.Response:
            return httpx.get(f"{url}.json", params={"sql": sql, "_shape": "objects"},
                             timeout=timeout)  # fmt: skip

        started = time.monotonic()
        huge = ask("select zeroblob(1e9)")
        assert time.monotonic() - started < 5
        assert huge.status_code == 400
        assert huge.json()["ok"] is False and "too big" in huge.json()["error"]
        assert peak_memory_kb(pid) < 512 * 1024  # not the gigabyte the query asked for

        slow: dict[str, object] = {}

        def run_slow() -> None:
            began = time.monotonic()
            slow["answer"] = ask(COUNT_TO_1E9)
            slow["seconds"] = time.monotonic() - began

        thread = threading.Thread(target=run_slow)
        thread.start()
        time.sleep(1)
        # The slow query holds one of Datasette's threads, not the server.
        began = time.monotonic()
        meanwhile = ask("select 3 as x")
        assert meanwhile.json()["rows"] == [{"x": 3}]
        assert time.monotonic() - began < 2
        thread.join(timeout=30)
        assert not thread.is_alive()
        answer = slow["answer"]
        assert isinstance(answer, httpx.Response)
        assert answer.status_code == 400
        assert answer.json()["ok"] is False and "took too long" in answer.json()["error"]
        assert 4 < float(slow["seconds"]) < 10  # type: ignore[arg-type]

        many = ask("with recursive c(x) as (select 1 union all select x + 1 from c "
                   "where x < 5000) select x from c")  # fmt: skip
        assert many.status_code == 200
        assert len(many.json()["rows"]) == 1000 and many.json()["truncated"] is True
        after = ask("select 4 as y")
        assert after.status_code == 200 and after.json()["rows"] == [{"y": 4}]
