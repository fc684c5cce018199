"""Crawling over Redis: what the machinery costs and how far one writer and one Redis go.

In one run, against the same replay site (made-up MyAnimeList feeds, delays off):
- pages/s of one worker (and the writer) against one local `hoard crawl` (bar: at least 0.7x);
- two workers against one (reported: with 2 cores, expect little);
- the writer alone: captures/s and reviews/s it commits (how many workers one writer serves);
- Redis memory per 100,000 request fingerprints (the dedup set) and per 100,000 queued requests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from replay.harness import FAST_SETTINGS, run_crawl
from sites.myanimelist.scratch import ScratchSite

ROOT = Path(__file__).resolve().parent.parent
TITLES = 8
PAGES_PER_TITLE = 15
PER_PAGE = 20
BAR = 0.7
FINGERPRINTS = 100_000
WRITER_CAPTURES = TITLES * PAGES_PER_TITLE
SUMMARY = re.compile(r"(?P<pages>\d+) page\(s\), (?P<reviews>\d+) review\(s\).* in (?P<s>[\d.]+) s")
ELAPSED = re.compile(r"'elapsed_time_seconds': ([\d.]+)")


def fixtures() -> Path:
    root = os.environ.get("REVIEW_FIXTURES") or str(ROOT.parent / "shared" / "fixtures")
    return Path(root) / "myanimelist"


def feed_ids(title: int, count: int) -> list[int]:
    top = title * 100_000 + count
    return list(range(top, top - count, -1))


def hoard(*args: str, **kw: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HOARD_DB" and not k.endswith("_BASE_URL")}
    return subprocess.Popen([sys.executable, "-m", "hoard", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # fmt: skip


def local_rate(site: ScratchSite, db: Path, ids: str) -> float:
    """Pages/s of a local full crawl, spider open to close."""
    crawl = run_crawl(db, site.url, ["--anime", ids, "--mode", "full", "--verbose"], timeout=600,
                      site="mal")  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-500:]
    pages = int(SUMMARY.search(crawl.stdout)["pages"])  # type: ignore[index]
    return pages / float(ELAPSED.search(crawl.stderr).group(1))  # type: ignore[union-attr]


def redis_rate(site: ScratchSite, url: str, folder: Path, ids: str, workers: int) -> float:
    """Pages/s of the same crawl over Redis with `workers` workers and the writer already
    running: from submission to the run closed (every capture written)."""
    writer = hoard("write", "--redis", url, "--db", str(folder / "archive.db"), cwd=folder)
    crew = [hoard("worker", "--redis", url, cwd=folder) for _ in range(workers)]
    try:
        time.sleep(3.0)  # started and ready: process start-up is left out, as for the local side
        settings = [a for k, v in FAST_SETTINGS.items() for a in ("-s", f"{k}={v}")]
        sub = hoard("crawl", "mal", "--anime", ids, "--mode", "full", "--db",
                    str(folder / "archive.db"), "--base-url", site.url, *settings,
                    "--redis", url, cwd=folder)  # fmt: skip
        out, err = sub.communicate(timeout=600)
        assert sub.returncode == 0, err[-500:]
    finally:
        for proc in [writer, *crew]:
            proc.terminate()
        for proc in [writer, *crew]:
            proc.communicate(timeout=60)
    m = SUMMARY.search(out)
    assert m is not None, out
    return int(m["pages"]) / float(m["s"])


def writer_rate(url: str, folder: Path, site_dir: Path) -> tuple[float, float]:
    """Captures/s and reviews/s the writer commits (parsed pages waiting in Redis)."""
    import json

    import redis

    from hoard.distributed import keys
    from hoard.distributed.link import RedisLink
    from hoard.distributed.writer import Writer
    from items import Capture
    from sites import site_named
    from sites.myanimelist.feeds import title_reviews_url

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
        client.xadd(keys.CAPTURES, {"run": "rb", "job": "rb.1", "kind": "capture",
                                    "data": capture.to_bytes()})  # fmt: skip
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

    from hoard.distributed.frontier import encode_request
    from sites.myanimelist.feeds import title_reviews_url
    from spiders.named import SPIDERS

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


def main() -> bool:
    sys.path.insert(0, str(ROOT))
    from tests.distributed.support import RedisServer

    ids = ",".join(str(t) for t in range(1, TITLES + 1))
    count = PAGES_PER_TITLE * PER_PAGE
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        server = RedisServer(scratch / "redis").start()
        try:
            with ScratchSite(scratch / "site", fixtures()) as site:
                site.publish({("anime", t): feed_ids(t, count) for t in range(1, TITLES + 1)})
                rates: dict[str, list[float]] = {"local": [], "one": [], "two": []}
                for n in range(2):  # alternating, best of two each
                    rates["local"].append(local_rate(site, scratch / f"local-{n}.db", ids))
                    for label, workers in (("one", 1), ("two", 2)):
                        folder = scratch / f"{label}-{n}"
                        folder.mkdir()
                        rates[label].append(redis_rate(site, server.url, folder, ids, workers))
                local, one, two = (max(rates[k]) for k in ("local", "one", "two"))
            captures, reviews = writer_rate(server.url, scratch, scratch / "site")
            seen, queue = memory(server.url)
        finally:
            server.stop(kill=True)
    pages = TITLES * PAGES_PER_TITLE
    print(f"   {TITLES} titles x {PAGES_PER_TITLE} pages of ~270 KB ({pages} pages), delays "
          "off, best of 2 alternating runs")  # fmt: skip
    print(f"   {'':40}{'pages/s':>10}{'ratio':>10}")
    print(f"   {'local hoard crawl (spider open-close)':40}{local:>10.1f}{'':>10}")
    print(f"   {'1 worker + writer (submit-closed)':40}{one:>10.1f}{one / local:>10.2f}")
    print(f"   {'2 workers + writer':40}{two:>10.1f}{two / one:>10.2f}  (vs 1 worker)")
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
