"""The shared frontier: runs and jobs in Redis, requests in Redis Streams, hand-over by consumer
groups.

- `submit()` opens a run: one job per crawl spec (spider + arguments + settings, as a local run
  has one crawler per spec), each job's start requests in a stream per host.
- A worker takes a request with `JobFrontier.take()`: first an entry a dead worker left pending
  longer than the visibility timeout (`XAUTOCLAIM`), else a new one (`XREADGROUP`).
- `JobFrontier.commit()` hands over, in one MULTI/EXEC transaction, what the request's response
  yielded: its captures and feed events (to the writer's stream), its next requests (those whose
  fingerprint the job has not seen), the crawler's stats since the last commit, and the
  acknowledgement (`XACK`) of the request. A worker killed before the commit has acknowledged
  nothing, so its request goes to another worker; killed after it, it has lost nothing.
- `JobFrontier.touch()` keeps what a live worker holds from being claimed (`XCLAIM ... JUSTID`
  resets an entry's idle time).

A job is done when every request it queued is acknowledged (`queued == done`), or it was
stopped (a layout change, a block page, too many 429s) and nothing of it is in flight.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis
from scrapy import Request, Spider

from reviewhoard.hoard.distributed import keys
from reviewhoard.hoard.distributed.link import RedisLink
from reviewhoard.hoard.distributed.wire import item_fields
from reviewhoard.items import Capture, FeedWalked, utc_now

logger = logging.getLogger(__name__)

CARRIED_META = ("feed", "page", "hoard_feed")
"""Request meta that travels with a request between machines (the rest is local state)."""
CLAIM_SECONDS = 1.0
"""Longest time between two looks (`XAUTOCLAIM`) for the requests a dead worker left in a
host's stream (a third of the visibility timeout when that is shorter). They are claimable only
once the visibility timeout has passed anyway; a look before every take cost a round trip to
Redis per page."""
MAX_DELIVERIES = 5
"""A request delivered this many times without being acknowledged (it kills every worker that
takes it) is given up with an error instead of going round for ever."""


# -- requests as bytes ------------------------------------------------------------------------


def encode_request(request: Request) -> bytes:
    """A request as JSON bytes: callbacks by name (methods of the job's spider), body and
    header values in base64, only `CARRIED_META`."""
    headers = {
        k.decode("latin-1"): [base64.b64encode(v).decode("ascii") for v in values]
        for k, values in request.headers.items()
    }
    return json.dumps(
        {
            "url": request.url,
            "method": request.method,
            "headers": headers,
            "body": base64.b64encode(request.body).decode("ascii"),
            "meta": {k: request.meta[k] for k in CARRIED_META if k in request.meta},
            "priority": request.priority,
            "dont_filter": request.dont_filter,
            "callback": getattr(request.callback, "__name__", None),
            "errback": getattr(request.errback, "__name__", None),
            "cb_kwargs": request.cb_kwargs,
        },
        ensure_ascii=False,
    ).encode("utf-8")


def decode_request(data: bytes, spider: Spider) -> Request:
    """The request `encode_request` wrote, its callbacks bound to `spider`."""
    d = json.loads(data)
    return Request(
        d["url"],
        method=d["method"],
        headers={k: [base64.b64decode(v) for v in values] for k, values in d["headers"].items()},
        body=base64.b64decode(d["body"]),
        meta=d["meta"],
        priority=d["priority"],
        dont_filter=d["dont_filter"],
        callback=getattr(spider, d["callback"]) if d["callback"] else None,
        errback=getattr(spider, d["errback"]) if d["errback"] else None,
        cb_kwargs=d["cb_kwargs"],
    )


def request_host(url: str, bases: tuple[str, str] | None) -> str:
    """The host a request to `url` really goes to (after a move to a replay site or mirror):
    what politeness counts per, as Scrapy's download slots do."""
    if bases is not None:
        from reviewhoard.middlewares.rebase import rebase_url

        url = rebase_url(url, *bases)
    return (urlsplit(url).hostname or "").lower()


def worker_name() -> str:
    """This process's consumer name: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(slots=True)
class Outgoing:
    """A request a response yielded, ready for the frontier."""

    host: str
    data: bytes
    fingerprint: bytes | None
    """None for a `dont_filter` request (never deduplicated)."""


@dataclass(slots=True)
class Entry:
    """A request taken from the frontier: where it came from, and its bytes."""

    stream: str
    id: str
    host: str
    data: bytes
    deliveries: int = 1


# -- runs and jobs ------------------------------------------------------------------------------


@dataclass(slots=True)
class JobSpec:
    """What a job runs: a spider with arguments and settings (as `hoard crawl` would), and the
    start requests a spider of it made."""

    spider: str
    args: dict[str, str]
    settings: dict[str, Any]
    start: list[Outgoing] = field(default_factory=list)


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RunLocked(Exception):
    """Another run is still being crawled over this Redis."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def submit(
    link: RedisLink,
    jobs: list[JobSpec],
    command: str,
    watch_of_feed: Mapping[str, str],
) -> str:
    """Open a run with these jobs and queue their start requests; its id. RunLocked when
    another run is still active (one run at a time, as under the archive's lock)."""
    run_id = f"r{link.call(lambda r: r.incr(keys.NEXT_ID))}"
    if not link.call(lambda r: r.set(keys.RUN_LOCK, run_id, nx=True)):
        holder = link.call(lambda r: r.get(keys.RUN_LOCK))
        raise RunLocked(_str(holder) if holder else "?")
    job_ids = [f"{run_id}.{n}" for n in range(1, len(jobs) + 1)]

    def write(r: Any) -> None:
        pipe = r.pipeline(transaction=True)
        pipe.hset(
            keys.run(run_id),
            mapping={
                "command": command,
                "jobs": json.dumps(job_ids),
                "watch_of_feed": json.dumps(dict(watch_of_feed)),
                "submitted_at": utc_now(),
                "submitted_ts": time.time(),
                "captures": 0,
                "written": 0,
            },
        )
        for job_id, spec in zip(job_ids, jobs, strict=True):
            pipe.hset(
                keys.job(job_id),
                mapping={
                    "run": run_id,
                    "spider": spec.spider,
                    "args": json.dumps(spec.args),
                    "settings": json.dumps(spec.settings, default=str),
                    "queued": 0,
                    "done": 0,
                },
            )
            _queue(pipe, job_id, spec.start, set())
        pipe.sadd(keys.ACTIVE_RUNS, run_id)
        pipe.execute()

    try:
        link.call(write)
    except BaseException:
        link.call(lambda r: r.delete(keys.RUN_LOCK))
        raise
    return run_id


def _queue(pipe: Any, job_id: str, requests: Iterable[Outgoing], hosts: set[str]) -> int:
    """Add to a transaction: each request (deduplicated by fingerprint within the call) in its
    host's stream, the stream's consumer group made first where `hosts` does not know it."""
    added = 0
    seen: set[bytes] = set()
    for out in requests:
        if out.fingerprint is not None:
            if out.fingerprint in seen:
                continue
            seen.add(out.fingerprint)
            pipe.sadd(keys.job_seen(job_id), out.fingerprint)
        stream = keys.queue(job_id, out.host)
        if out.host not in hosts:
            hosts.add(out.host)
            pipe.sadd(keys.job_hosts(job_id), out.host)
            pipe.xgroup_create(stream, keys.WORKERS_GROUP, id="0", mkstream=True)
        pipe.xadd(stream, {"req": out.data})
        added += 1
    if added:
        pipe.hincrby(keys.job(job_id), "queued", added)
    return added


def active_jobs(link: RedisLink) -> list[tuple[str, str]]:
    """(run id, job id) of every active run's jobs."""

    def read(r: Any) -> list[tuple[str, str]]:
        out = []
        for run_id in sorted(_str(x) for x in r.smembers(keys.ACTIVE_RUNS)):
            jobs = r.hget(keys.run(run_id), "jobs")
            out += [(run_id, j) for j in json.loads(jobs or b"[]")]
        return out

    return link.call(read)


def job_record(link: RedisLink, job_id: str) -> dict[str, str]:
    """The job's hash, decoded."""
    raw = link.call(lambda r: r.hgetall(keys.job(job_id)))
    return {_str(k): _str(v) for k, v in raw.items()}


def job_finished(link: RedisLink, job_id: str) -> bool:
    """Every request the job queued is acknowledged; or it was stopped and nothing of it is in
    flight any more."""

    def read(r: Any) -> bool:
        queued, done, stop = r.hmget(keys.job(job_id), "queued", "done", "stop")
        if int(queued or 0) == int(done or 0):
            return True
        if not stop:
            return False
        for host in r.smembers(keys.job_hosts(job_id)):
            summary = r.xpending(keys.queue(job_id, _str(host)), keys.WORKERS_GROUP)
            if summary["pending"]:
                return False
        return True

    return bool(link.call(read))


def run_finished(link: RedisLink, run_id: str) -> bool:
    """Every job of the run is finished and every capture it produced is written."""
    record = link.call(lambda r: r.hmget(keys.run(run_id), "jobs", "captures", "written"))
    jobs, captures, written = record
    if jobs is None:
        return True
    if int(captures or 0) != int(written or 0):
        return False
    return all(job_finished(link, job_id) for job_id in json.loads(jobs))


# -- a worker's side of one job -------------------------------------------------------------------


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then
    return redis.call('set', KEYS[1], 'delay', 'PX', ARGV[2])
  end
  return redis.call('del', KEYS[1])
end
return 0
"""
"""Give a lease back, keeping the host's delay: Redis' documented lock release (only the
holder's token may change it), the delay as the key's remaining time."""

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

_ACQUIRE = """
local paused = redis.call('pttl', KEYS[2])
if paused > 0 then return paused end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('get', KEYS[1]) ~= 'delay' then return -1 end
local left = redis.call('pttl', KEYS[1])
if left < 1 then return 1 end
return left
"""
"""Take a host's lease unless it is paused (429/503) or someone holds it (a request in flight,
or the delay after one): 0 when taken, -1 while a request is in flight (its end is not known),
else the milliseconds the delay or the pause has left."""


class JobFrontier:
    """One worker's view of one job's frontier."""

    def __init__(
        self, link: RedisLink, job_id: str, run_id: str, consumer: str, visibility: float
    ) -> None:
        self.link = link
        self.job_id = job_id
        self.run_id = run_id
        self.consumer = consumer
        self.visibility_ms = max(1, int(visibility * 1000))
        self.claim_seconds = min(CLAIM_SECONDS, visibility / 3)
        self._next_claim: dict[str, float] = {}
        """Stream -> when to look again for entries a dead worker left there."""
        self.hosts: set[str] = set()
        """Hosts whose stream and group exist (known from Redis or made by this worker)."""
        self._release = link.client.register_script(_RELEASE)
        self._renew = link.client.register_script(_RENEW)
        self._acquire = link.client.register_script(_ACQUIRE)

    # -- taking --

    def refresh_hosts(self) -> set[str]:
        """The job's hosts, as Redis knows them now."""
        found = self.link.call(lambda r: r.smembers(keys.job_hosts(self.job_id)))
        self.hosts |= {_str(h) for h in found}
        return self.hosts

    def take(self, host: str) -> Entry | None:
        """A request of this job to `host`: one a dead worker left pending past the visibility
        timeout first (looked for at most every `claim_seconds`), else a new one; None when
        there is neither."""
        stream = keys.queue(self.job_id, host)
        now = time.monotonic()
        claim = now >= self._next_claim.get(stream, 0.0)

        def read(r: Any) -> Entry | None:
            try:
                if claim:
                    entry = self._claim(r, stream, host)
                    if entry is not None:
                        return entry  # there may be more: look again at the next take
                    self._next_claim[stream] = now + self.claim_seconds
                got = r.xreadgroup(keys.WORKERS_GROUP, self.consumer, {stream: ">"}, count=1)
            except redis.ResponseError as exc:
                if "NOGROUP" in str(exc):
                    return None  # the run was closed and its streams removed meanwhile
                raise
            for _, items in got or []:
                for entry_id, fields in items:
                    return Entry(stream, _str(entry_id), host, fields[b"req"])
            return None

        return self.link.call(read)

    def _claim(self, r: Any, stream: str, host: str) -> Entry | None:
        claimed = r.xautoclaim(
            stream, keys.WORKERS_GROUP, self.consumer, self.visibility_ms, "0-0", count=1
        )
        entries = claimed[1] if claimed else []
        if not entries:
            return None
        entry_id, fields = entries[0]
        detail = r.xpending_range(stream, keys.WORKERS_GROUP, entry_id, entry_id, 1)
        times = int(detail[0]["times_delivered"]) if detail else 1
        return Entry(stream, _str(entry_id), host, fields[b"req"], times)

    def state(self) -> tuple[bool, str | None]:
        """(finished, stop reason) of the job now."""
        stop = self.link.call(lambda r: r.hget(keys.job(self.job_id), "stop"))
        return job_finished(self.link, self.job_id), (_str(stop) if stop else None)

    # -- politeness --

    def acquire(self, host: str, token: str) -> int:
        """Take `host`'s lease for a request in flight: 0 when taken, -1 while another request
        is in flight there, else the ms its delay (or a pause) has left."""
        ms = self.link.call(
            lambda r: self._acquire(
                keys=[keys.lease(host), keys.pause(host)], args=[token, self.visibility_ms]
            )
        )
        return int(ms)

    def release(self, host: str, token: str, delay: float) -> None:
        """Give `host`'s lease back; nobody gets it for `delay` seconds."""
        ms = int(delay * 1000)
        self.link.call(lambda r: self._release(keys=[keys.lease(host)], args=[token, ms]))

    def pause(self, host: str, seconds: float) -> None:
        """`host` asked us to wait (429/503): no worker asks it anything for `seconds`."""
        ms = max(1, int(seconds * 1000))
        self.link.call(lambda r: r.set(keys.pause(host), "retry-after", px=ms))

    def touch(self, held: Iterable[Entry], leases: Mapping[str, str]) -> None:
        """Keep what this live worker holds: entries' idle time back to 0, leases renewed."""
        held = list(held)
        if not held and not leases:
            return

        def renew(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            by_stream: dict[str, list[str]] = {}
            for entry in held:
                by_stream.setdefault(entry.stream, []).append(entry.id)
            for stream, ids in by_stream.items():
                pipe.xclaim(stream, keys.WORKERS_GROUP, self.consumer, 0, ids, justid=True)
            for host, token in leases.items():
                self._renew(keys=[keys.lease(host)], args=[token, self.visibility_ms], client=pipe)
            pipe.execute()

        self.link.call(renew)

    # -- handing over --

    def commit(
        self,
        entry: Entry | None,
        items: list[Capture | FeedWalked],
        requests: list[Outgoing],
        counts: Mapping[str, int],
        texts: Mapping[str, str],
        stop: str | None = None,
    ) -> None:
        """Hand over what `entry`'s response yielded and acknowledge it, in one transaction
        (see the module doc). Requests whose fingerprint the job has seen are dropped. Retried
        through Redis outages; an entry no longer pending (the transaction went through before
        the connection broke) is not committed twice."""
        fingerprints = [r.fingerprint for r in requests if r.fingerprint is not None]
        payloads = [item_fields(item) for item in items]  # once, not again on a retry
        attempt = 0

        def run(r: Any) -> None:
            nonlocal attempt
            attempt += 1
            if attempt > 1 and entry is not None and not self._pending(r, entry):
                return
            seen = r.smismember(keys.job_seen(self.job_id), fingerprints) if fingerprints else []
            old = {fp for fp, was in zip(fingerprints, seen, strict=True) if was}
            fresh = [q for q in requests if q.fingerprint is None or q.fingerprint not in old]
            hosts = set(self.hosts)
            new_hosts = sorted({q.host for q in fresh} - hosts)
            if new_hosts:
                known = r.smismember(keys.job_hosts(self.job_id), new_hosts)
                hosts |= {h for h, was in zip(new_hosts, known, strict=True) if was}
            pipe = r.pipeline(transaction=True)
            for payload in payloads:
                pipe.xadd(keys.CAPTURES, {"run": self.run_id, "job": self.job_id, **payload})
            if items:
                pipe.hincrby(keys.run(self.run_id), "captures", len(items))
            _queue(pipe, self.job_id, fresh, hosts)
            job_key = keys.job(self.job_id)
            if entry is not None:
                pipe.xack(entry.stream, keys.WORKERS_GROUP, entry.id)
                pipe.hincrby(job_key, "done", 1)
            for name, n in counts.items():
                if n:
                    pipe.hincrby(keys.job_stats(self.job_id), name, n)
            for name, text in texts.items():
                pipe.hsetnx(keys.job_stats(self.job_id), name, text)
            if stop:
                pipe.hsetnx(job_key, "stop", stop)
            results = pipe.execute(raise_on_error=False)
            for result in results:
                if isinstance(result, Exception) and "BUSYGROUP" not in str(result):
                    raise result
            self.hosts = hosts

        self.link.call(run)

    def _pending(self, r: Any, entry: Entry) -> bool:
        found = r.xpending_range(entry.stream, keys.WORKERS_GROUP, entry.id, entry.id, 1)
        return bool(found)

    def stop(self, reason: str) -> None:
        """Stop the job for every worker (an alarm reason: layout_changed, too_many_429...)."""
        self.link.call(lambda r: r.hsetnx(keys.job(self.job_id), "stop", reason))
