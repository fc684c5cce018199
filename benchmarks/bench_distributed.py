"""Crawling over Redis: what the machinery costs and how far one writer and one Redis go.

In one run, against the same replay site (made-up MyAnimeList feeds, delays off):
- pages/s of one worker (and the writer) against one local `hoard crawl` of the same pages (bar:
  at least 0.7x), the two alternating `ROUNDS` times, best of each (a noisy machine slows single
  runs, rarely all of them);
- two workers against one (reported: with 2 cores, expect little);
- the writer alone: captures/s and reviews/s it commits (how many workers one writer serves);
- Redis memory per 100,000 request fingerprints (the dedup set) and per 100,000 queued requests.

What is timed: the local crawl from its spider's opening to its closing (Scrapy's
`elapsed_time_seconds`: the crawler's set-up and the run's closing book-keeping are left out);
the distributed one from the run's submission to the writer closing it (`seconds` in the run's
record: the job's crawler set-up in the worker, every capture's trip through Redis and the
writer's last commit are in). The workers run for the whole benchmark, as they would for days,
and crawl one small unmeasured run first; each measured run gets a writer on a fresh archive,
as each local run does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import fixtures_dir
from reviewhoard.replay.harness import FAST_SETTINGS, run_crawl
from reviewhoard.sites.myanimelist.scratch import ScratchSite

ROOT = Path(__file__).resolve().parent.parent
TITLES = 8
PAGES_PER_TITLE = 15
PER_PAGE = 20
ROUNDS = 3
"""Local and one-worker runs, alternating; the best of each is compared."""
TWO_ROUNDS = 2
BAR = 0.7
FINGERPRINTS = 100_000
WRITER_CAPTURES = TITLES * PAGES_PER_TITLE
SUMMARY = re.compile(r"(?P<pages>\d+) page\(s\), (?P<reviews>\d+) review\(s\)")
ELAPSED = re.compile(r"'elapsed_time_seconds': ([\d.]+)")
READY_SECONDS = 60.0


def feed_ids(title: int, count: int) -> list[int]:
    top = title * 100_000 + count
    return list(range(top, top - count, -1))


def hoard(*args: str, **kw: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HOARD_DB" and not k.endswith("_BASE_URL")}
    return subprocess.Popen([sys.executable, "-m", "reviewhoard.hoard", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # fmt: skip


def stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.communicate(timeout=60)


def local_rate(site: ScratchSite, db: Path, ids: str) -> float:
    """Pages/s of a local full crawl, spider open to close."""
    crawl = run_crawl(db, site.url, ["--anime", ids, "--mode", "full", "--verbose"], timeout=600,
                      site="mal")  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-500:]
    pages = int(SUMMARY.search(crawl.stdout)["pages"])  # type: ignore[index]
    return pages / float(ELAPSED.search(crawl.stderr).group(1))  # type: ignore[union-attr]


@contextmanager
def workers(url: str, folder: Path, count: int) -> Iterator[None]:
    """`count` workers running meanwhile."""
    crew = [hoard("worker", "--redis", url, cwd=folder) for _ in range(count)]
    try:
        yield
    finally:
        stop(crew)


def redis_rate(site: ScratchSite, url: str, folder: Path, ids: str) -> float:
    """Pages/s of the crawl over Redis by the workers running, with a writer of its own on a
    fresh archive: from submission to the run closed (every capture written)."""
    import redis

    from reviewhoard.hoard.distributed import keys

    folder.mkdir()
    client = redis.Redis.from_url(url)
    writer = hoard("write", "--redis", url, "--db", str(folder / "archive.db"), cwd=folder)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while client.hmget(keys.WRITER, "pid", "ready") != [str(writer.pid).encode(), b"1"]:
            assert writer.poll() is None and time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.05)
        settings = [a for k, v in FAST_SETTINGS.items() for a in ("-s", f"{k}={v}")]
        sub = hoard("crawl", "mal", "--anime", ids, "--mode", "full", "--db",
                    str(folder / "archive.db"), "--base-url", site.url, *settings,
                    "--redis", url, cwd=folder)  # fmt: skip
        out, err = sub.communicate(timeout=600)
        assert sub.returncode == 0, err[-500:]
    finally:
        stop([writer])
    m = SUMMARY.search(out)
    assert m is not None, out
    run_id = f"r{int(client.get(keys.NEXT_ID) or 0)}"
    seconds = float(client.hget(keys.run(run_id), "seconds") or 0)
    assert seconds > 0, f"run {run_id} has no duration"
    return int(m["pages"]) / seconds


def writer_rate(url: str, folder: Path, site_dir: Path) -> tuple[float, float]:
    """Captures/s and reviews/s the writer commits (parsed pages waiting in Redis)."""
    import json

    import redis

    from reviewhoard.hoard.distributed import keys
    from reviewhoard.hoard.distributed.link import RedisLink
    from reviewhoard.hoard.distributed.wire import item_fields
    from reviewhoard.hoard.distributed.writer import Writer
    from reviewhoard.items import Capture
    from reviewhoard.sites import site_named
    from reviewhoard.sites.myanimelist.feeds import title_reviews_url

    parser = site_named("mal").parser
    client = redis.Redis.from_url(url)
    client.hset(keys.run("rb"), mapping={"command": "bench", "jobs": json.dumps([])})
    reviews = 0
    for n in range(WRITER_CAPTURES):
        title, page = n // PAGES_PER_TITLE + 1, n % PAGES_PER_TITLE + 1
        body = (site_dir / f"anime-{title}-p{page}.html").read_bytes()
        page_url = title_reviews_url("anime", title, page)
        parsed = parser.parse(body, page_url)
        reviews += len(parsed.reviews)
        fetched_at = f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000000Z"
        capture = Capture(page_url, page_url, 200, {}, body, fetched_at, "myanimelist",
                          parser.PARSER_VERSION, feed=f"anime:{title}", page=page,
                          reviews=parsed.reviews)  # fmt: skip
        fields: dict[Any, Any] = {"run": "rb", "job": "rb.1", **item_fields(capture)}
        client.xadd(keys.CAPTURES, fields)
    with open(os.devnull, "w") as quiet:
        writer = Writer(RedisLink(url, "bench"), folder / "writer.db", True, quiet)
        writer.link.call(writer._make_group)  # the crawls above made it already
        writer.open_run("rb")
        started = time.perf_counter()
        done = 0
        while done < WRITER_CAPTURES:
            entries = writer._read_new()
            assert entries, "the captures did not reach the writer"
            writer._write(entries)
            done += len(entries)
        seconds = time.perf_counter() - started
        writer.runs["rb"].writer.close()
    return WRITER_CAPTURES / seconds, reviews / seconds


def memory(url: str) -> tuple[int, int]:
    """Bytes Redis uses for 100,000 fingerprints (the dedup set) and 100,000 queued requests."""
    import redis

    from reviewhoard.hoard.distributed.frontier import encode_request
    from reviewhoard.sites.myanimelist.feeds import title_reviews_url
    from reviewhoard.spiders.named import SPIDERS

    client = redis.Redis.from_url(url)
    spider = SPIDERS["mal"](anime="1")
    feed = next(iter(spider.feeds.values())).feed
    sample = encode_request(spider.feed_request(feed, title_reviews_url("anime", 1, 2), page=2))
    pipe = client.pipeline(transaction=False)
    for n in range(FINGERPRINTS):
        pipe.sadd("bench:seen", os.urandom(20))
        pipe.xadd("bench:queue", {"req": sample})
        if n % 10_000 == 0:
            pipe.execute()
    pipe.execute()
    seen = int(client.memory_usage("bench:seen", samples=0) or 0)
    queue = int(client.memory_usage("bench:queue", samples=0) or 0)
    return seen, queue


def figures(rates: list[float]) -> str:
    return " ".join(f"{r:.1f}" for r in rates)


def main() -> bool:
    sys.path.insert(0, str(ROOT))
    from tests.distributed.support import RedisServer

    ids = ",".join(str(t) for t in range(1, TITLES + 1))
    count = PAGES_PER_TITLE * PER_PAGE
    rates: dict[str, list[float]] = {"local": [], "one": [], "two": []}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        server = RedisServer(scratch / "redis").start()
        try:
            with ScratchSite(scratch / "site", fixtures_dir() / "myanimelist") as site:
                site.publish({("anime", t): feed_ids(t, count) for t in range(1, TITLES + 1)})
                with workers(server.url, scratch, 1):
                    redis_rate(site, server.url, scratch / "warm-one", "1")
                    for n in range(ROUNDS):
                        rates["local"].append(local_rate(site, scratch / f"local-{n}.db", ids))
                        rates["one"].append(redis_rate(site, server.url, scratch / f"one-{n}", ids))
                with workers(server.url, scratch, 2):
                    redis_rate(site, server.url, scratch / "warm-two", "1")
                    for n in range(TWO_ROUNDS):
                        rates["two"].append(redis_rate(site, server.url, scratch / f"two-{n}", ids))
            captures, reviews = writer_rate(server.url, scratch, scratch / "site")
            seen, queue = memory(server.url)
        finally:
            server.stop(kill=True)
    local, one, two = (max(rates[k]) for k in ("local", "one", "two"))
    pages = TITLES * PAGES_PER_TITLE
    print(f"   {TITLES} titles x {PAGES_PER_TITLE} pages of ~250 KB ({pages} pages), delays off; "
          f"best of {ROUNDS} alternating runs ({TWO_ROUNDS} for two workers)")  # fmt: skip
    print(f"   {'':40}{'pages/s':>10}{'ratio':>10}   each run")
    print(f"   {'local hoard crawl (spider open-close)':40}{local:>10.1f}{'':>10}   "
          f"{figures(rates['local'])}")  # fmt: skip
    print(f"   {'1 worker + writer (submitted-closed)':40}{one:>10.1f}{one / local:>10.2f}   "
          f"{figures(rates['one'])}")  # fmt: skip
    print(f"   {'2 workers + writer':40}{two:>10.1f}{two / one:>10.2f}   "
          f"{figures(rates['two'])}  (ratio vs 1 worker)")  # fmt: skip
    print(f"   writer alone: {captures:.0f} captures/s, {reviews:.0f} reviews/s committed "
          f"= {reviews * 86400 / 1e6:.0f} million reviews/day")  # fmt: skip
    print(
        f"   Redis per {FINGERPRINTS:,} fingerprints (dedup set): {seen / 2**20:.1f} MiB; "
        f"per {FINGERPRINTS:,} queued requests (stream): {queue / 2**20:.1f} MiB"
    )
    print(f"   -> a frontier of 10 million requests: {(seen + queue) * 100 / 2**30:.1f} GiB")
    ok = one / local >= BAR
    print(
        f"   1 worker / local: {one / local:.2f} (bar >= {BAR:.2f}) {'ok' if ok else 'BELOW BAR'}"
    )
    return ok
