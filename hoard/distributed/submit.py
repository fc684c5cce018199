"""Putting a run in the shared frontier, and waiting for its outcome (`hoard crawl ... --redis`,
`hoard update` with `redis = "URL"`); with `workers=N`, also running the writer and N workers on
this machine for it.

The submitter makes each spec's spider exactly as a local run would (same arguments, same
settings) only to ask it for its start requests; the workers make it again to crawl. It then
waits for the writer to close the run and prints the run's summary, alarms and stop reason,
exiting with the same status as a local run: 0, 1 (some requests failed), 3 (an alarm), 75
(another run holds the archive, or is still being crawled over this Redis), 130/143.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.distributed import keys
from reviewhoard.hoard.distributed.frontier import (
    JobSpec,
    Outgoing,
    RunLocked,
    _str,
    encode_request,
    request_host,
    submit,
)
from reviewhoard.hoard.distributed.link import RedisLink
from reviewhoard.hoard.errors import LockedError, UsageError

WAITING_SAY_AFTER = 5.0
"""Seconds without a writer on Redis before the submitter says what it is waiting for."""
POLL_SECONDS = 0.05


def job_specs(specs: list[Any], overrides: Mapping[str, Any]) -> list[JobSpec]:
    """Each `CrawlSpec` as a job: its spider's start requests, made as a local run makes them."""
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.request import RequestFingerprinter

    from reviewhoard.hoard.crawl.run import project_settings
    from reviewhoard.middlewares.rebase import base_url_for

    settings = project_settings(overrides)
    loader = SpiderLoader.from_settings(settings)
    fingerprinter = RequestFingerprinter()
    jobs = []
    for spec in specs:
        spidercls: Any = loader.load(spec.spider)
        spider = spidercls(**spec.args)
        site = spidercls.site()
        base = base_url_for(site, settings)
        bases = (site.base_url, base) if site.base_url and base != site.base_url else None
        start = []
        for progress in spider.feeds.values():
            request = spider.feed_request(progress.feed, progress.feed.start_url, page=1)
            start.append(
                Outgoing(
                    request_host(request.url, bases),
                    encode_request(request),
                    fingerprinter.fingerprint(request),
                )
            )
        jobs.append(JobSpec(spec.spider, dict(spec.args), dict(overrides), start))
    return jobs


def submit_run(
    url: str,
    specs: list[Any],
    overrides: Mapping[str, Any],
    command_line: str,
    watch_of_feed: Mapping[str, str],
    stream: TextIO,
) -> tuple[RedisLink, str]:
    """Submit; (the link, the run id). LockedError (75) while another run is active."""
    link = RedisLink(url, "hoard", stream)
    jobs = job_specs(specs, overrides)
    try:
        run_id = submit(link, jobs, command_line, watch_of_feed)
    except RunLocked as exc:
        link.close()
        raise LockedError(
            f"another run ({exc.holder}) is still being crawled over Redis at {url}; this run "
            "did nothing, try again later (workers and the writer finish it)"
        ) from None
    return link, run_id


def wait_for_run(
    link: RedisLink,
    run_id: str,
    stream: TextIO,
    children: list[subprocess.Popen[bytes]] | None = None,
) -> dict[str, str] | None:
    """The run's record once the writer has closed it; None if the writer (one of `children`,
    the first) ended before that."""
    said = False
    started = time.monotonic()
    while True:
        record = link.call(lambda r: r.hgetall(keys.run(run_id)))
        info = {_str(k): _str(v) for k, v in record.items()}
        if info.get("status"):
            return info
        if children and children[0].poll() is not None:
            return None
        late = time.monotonic() - started > WAITING_SAY_AFTER
        if not said and not children and late and not link.call(lambda r: r.exists(keys.WRITER)):
            said = True
            stream.write(
                f"hoard: run {run_id} is in the frontier at {link.url}; waiting for the writer "
                f"(hoard write --redis {link.url}) and workers (hoard worker --redis {link.url})\n"
            )
            stream.flush()
        time.sleep(POLL_SECONDS)


def cancel_run(link: RedisLink, run_id: str) -> None:
    """Take a run nobody will finish out of Redis (its lock too)."""

    def cancel(r: Any) -> None:
        jobs = json.loads(r.hget(keys.run(run_id), "jobs") or b"[]")
        pipe = r.pipeline(transaction=True)
        pipe.hset(keys.run(run_id), mapping={"status": "cancelled"})
        pipe.srem(keys.ACTIVE_RUNS, run_id)
        for job_id in jobs:
            for host in r.smembers(keys.job_hosts(job_id)):
                pipe.delete(keys.queue(job_id, _str(host)))
            pipe.delete(keys.job_seen(job_id), keys.job_hosts(job_id))
        pipe.execute()
        if _str(r.get(keys.RUN_LOCK) or b"") == run_id:
            r.delete(keys.RUN_LOCK)

    link.give_up = lambda: False
    link.call(cancel)


def report(info: dict[str, str], stream: TextIO, summary_key: str = "summary") -> int:
    """Print the run's alarms and stop reason on `stream`, its summary on stdout; the status."""
    for line in json.loads(info.get("lines") or "[]"):
        stream.write(line + "\n")
    stream.flush()
    print(info.get(summary_key) or info.get("summary", ""), flush=True)
    status = int(info["status"])
    if status == exitcodes.PARTIAL and summary_key == "summary":
        stream.write(
            f"hoard: {info.get('errors', '?')} request(s) or item(s) failed; run again with "
            "--verbose to see which\n"
        )
        stream.flush()
    return status


def hoard_command(*args: str) -> list[str]:
    """`hoard ARGS` with this interpreter."""
    return [sys.executable, "-m", "reviewhoard.hoard", *args]


def crawl_over_redis(
    url: str,
    specs: list[Any],
    overrides: Mapping[str, Any],
    command_line: str,
    *,
    watch_of_feed: Mapping[str, str] | None = None,
    workers: int = 0,
    db_path: Path | None = None,
    summary_key: str = "summary",
    verbose: bool = False,
    stream: TextIO | None = None,
) -> int:
    """Submit the run and wait for its outcome; with `workers`, run the writer (on `db_path`)
    and that many workers here for it. The exit status of the run."""
    from reviewhoard.hoard.crawl.supervise import feeds_of
    from reviewhoard.hoard.distributed.link import check_url

    stream = stream or sys.stderr
    try:
        check_url(url)
    except ValueError as exc:
        raise UsageError(f"--redis: {exc}") from None
    if watch_of_feed is None:
        label = command_line.split(" --")[0]
        watch_of_feed = {feed: f"{label} ({feed})" for feed in feeds_of(specs)}
    if workers < 0:
        raise UsageError("--workers takes a number of workers, 1 or more")
    if workers and db_path is not None:
        from reviewhoard.hoard.lock import ArchiveLock

        ArchiveLock(db_path, command=command_line).acquire().release()  # 75 before submitting
    link, run_id = submit_run(url, specs, overrides, command_line, watch_of_feed, stream)
    children: list[subprocess.Popen[bytes]] = []
    try:
        if workers:
            assert db_path is not None
            # Their stdout (the writer's line per run) is ours to print; errors go to stderr.
            write = ["write", "--redis", url, "--db", str(db_path), "--exit-when-idle"]
            children.append(subprocess.Popen(hoard_command(*write), stdout=subprocess.DEVNULL))
            work = ["worker", "--redis", url, "--exit-when-idle", *(["-v"] if verbose else [])]
            for _ in range(workers):
                children.append(subprocess.Popen(hoard_command(*work), stdout=subprocess.DEVNULL))
        info = wait_for_run(link, run_id, stream, children or None)
        if info is None:
            # The writer ended first (the archive was locked meanwhile, or it was killed); it
            # said why on stderr.
            cancel_run(link, run_id)
            _stop(children[1:])
            return children[0].returncode or exitcodes.PARTIAL
        status = report(info, stream, summary_key)
        for child in children:
            child.wait(timeout=60)
        return status
    except KeyboardInterrupt:
        cancel_run(link, run_id)
        _stop(children)
        return exitcodes.INTERRUPTED_SIGINT
    finally:
        link.close()


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
