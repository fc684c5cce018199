"""`hoard write --redis URL --db PATH`: the archive's one writer for crawls over several machines.

It holds the archive's run lock for as long as it runs (a local `hoard crawl` or `hoard update`
on the same archive exits 75 meanwhile), and:

- publishes what the archive holds (each review's content hash, `keys.known`) so workers in
  update mode stop where a local crawl would, and keeps it current as it writes (within a
  second, and whole before a run is closed);
- reads the captures and feed events the workers hand over (a consumer group of one: a restarted
  writer first reads what its predecessor left unacknowledged), writes them with
  `archive.writer.ArchiveWriter`, one per run, and acknowledges them (`XACK`) only once their
  transaction is committed. A capture already in the archive (the same body fetched at the same
  moment: written before a crash, then handed again) is not written twice;
- opens each run's `crawls` row when the run appears and closes it when the run is done (every
  job finished, every capture written), with the same alarms, outcome and exit status as a local
  run (`hoard.crawl.supervise.judge`), which the submitter waits for.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from reviewhoard.archive.hashing import body_sha256
from reviewhoard.archive.known import KnownReviews
from reviewhoard.archive.writer import GONE, ArchiveWriter, start_run
from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.distributed import keys
from reviewhoard.hoard.distributed.frontier import _str, run_finished
from reviewhoard.hoard.distributed.link import RedisLink
from reviewhoard.hoard.distributed.wire import read_capture
from reviewhoard.hoard.lock import ArchiveLock
from reviewhoard.items import Capture, FeedWalked, utc_now

logger = logging.getLogger(__name__)

READ_COUNT = 100
"""Entries read (and then committed and acknowledged) at a time."""
BLOCK_MS = 200
CHECK_SECONDS = 0.1
PRESENCE_SECONDS = 15
"""The writer's presence key expires this long after its last sign of life."""
PUBLISH_CHUNK = 5000
PUBLISH_SECONDS = 1.0
"""Written reviews' digests go to Redis at most this often (reading them back from the archive
after every transaction cost the writer more than the transaction itself when batches are small)."""
STATUS_ORDER = (
    exitcodes.OK,
    exitcodes.PARTIAL,
    exitcodes.ALARM,
    exitcodes.INTERRUPTED_SIGTERM,
    exitcodes.INTERRUPTED_SIGINT,
)


@dataclass(slots=True)
class OpenRun:
    """A run the writer is writing: its `crawls` row and its `ArchiveWriter`."""

    run_id: str
    crawl_id: int
    writer: ArchiveWriter
    sent: dict[str, int] = field(default_factory=dict)
    """The writer's counts as last added to the run's stats in Redis."""
    gone: dict[str, int] = field(default_factory=dict)
    """Reviews marked gone per feed since the last acknowledgement."""


def publish_known(link: RedisLink, db_path: Path) -> int:
    """Replace the digests in Redis with the archive's, for every site; how many."""
    from reviewhoard.sites import all_sites

    total = 0
    for site in all_sites():
        known = KnownReviews.read(db_path, site)
        names = (keys.known(site), keys.known_cut(site))
        link.call(lambda r, names=names: r.delete(*names))  # type: ignore[misc]
        for name, table in zip(names, (known.digests, known.cut), strict=True):
            items = list(table.items())
            for start in range(0, len(items), PUBLISH_CHUNK):
                chunk = dict(items[start : start + PUBLISH_CHUNK])
                link.call(lambda r, n=name, c=chunk: r.hset(n, mapping=c))  # type: ignore[misc]
        total += len(known.digests)
    return total


class Writer:
    """The writer process's loop (see the module doc)."""

    def __init__(
        self, link: RedisLink, db_path: Path, exit_when_idle: bool, stream: TextIO
    ) -> None:
        self.link = link
        self.db_path = db_path
        self.exit_when_idle = exit_when_idle
        self.stream = stream
        self.runs: dict[str, OpenRun] = {}
        self.statuses: list[int] = []
        self.signal: int | None = None
        self.batch = int(os.environ.get("HOARD_STORE_BATCH", "500"))
        self.unpublished: dict[str, set[str]] = {}
        """Site -> ids of the reviews written whose digests are not published yet."""
        self._published = 0.0
        self.written: set[tuple[str, str]] = set()
        """(body sha256, fetched_at) of captures written since the last acknowledgement."""
        self._read: sqlite3.Connection | None = None
        self._checked = 0.0
        link.give_up = lambda: self.signal is not None

    # -- the loop --

    def run(self) -> int:
        """Write until signalled (or until idle); the exit status."""
        self._catch_signals()
        with ArchiveLock(self.db_path, command=f"hoard write --redis {self.link.url}"):
            from reviewhoard.hoard.crawl.supervise import close_abandoned

            close_abandoned(self.db_path, self.stream)
            self.link.call(self._make_group)
            publish_known(self.link, self.db_path)
            self._present(ready=True)
            self._drain_pending()
            while self.signal is None:
                entries = self._gather()
                if entries:
                    self._write(entries)
                now = time.monotonic()
                # Right after a write too: the last capture of a run closes it at once.
                if entries or now - self._checked >= CHECK_SECONDS:
                    if now - self._checked >= CHECK_SECONDS:
                        self._checked = now
                        self._present()
                    if self._close_finished() and self.exit_when_idle:
                        break
            self._leave()
        return self.status

    def _make_group(self, r: Any) -> None:
        try:
            r.xgroup_create(keys.CAPTURES, keys.WRITER_GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _present(self, ready: bool = False) -> None:
        def beat(r: Any) -> None:
            pipe = r.pipeline(transaction=True)
            fields: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname()}
            fields["db"] = str(self.db_path.resolve())
            if ready:
                fields.update(ready=1, since=utc_now())
            pipe.hset(keys.WRITER, mapping=fields)
            pipe.expire(keys.WRITER, PRESENCE_SECONDS)
            pipe.execute()

        self.link.call(beat)

    def _drain_pending(self) -> None:
        """What a killed writer left unacknowledged: written again (or found written)."""
        while self.signal is None:
            got: Any = self.link.call(
                lambda r: r.xreadgroup(
                    keys.WRITER_GROUP, keys.WRITER_CONSUMER, {keys.CAPTURES: "0"}, count=READ_COUNT
                )
            )
            entries = [e for _, items in got or [] for e in items if e[1]]
            if not entries:
                return
            self._write(entries)

    def _read_new(self, block: bool = True) -> list[tuple[bytes, dict[bytes, bytes]]]:
        got: Any = self.link.call(
            lambda r: r.xreadgroup(
                keys.WRITER_GROUP,
                keys.WRITER_CONSUMER,
                {keys.CAPTURES: ">"},
                count=READ_COUNT,
                block=BLOCK_MS if block else None,
            )
        )
        return [e for _, items in got or [] for e in items]

    def _gather(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Entries for one transaction: all that wait, up to `READ_COUNT` (blocking up to
        `BLOCK_MS` for the first). Group commit: while a transaction is written the next
        captures queue up, so batches grow with the load, and a lone capture (the run's last)
        is not held back waiting for company."""
        return self._read_new()

    # -- writing --

    def _write(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        """Write the entries, commit, then publish their reviews' digests and acknowledge them
        (with the runs' counts) in one transaction."""
        touched: dict[str, OpenRun] = {}
        reviewed: dict[str, set[str]] = {}
        written: dict[str, int] = {}
        for _, fields in entries:
            run_id = _str(fields[b"run"])
            written[run_id] = written.get(run_id, 0) + 1
            run = self.open_run(run_id)
            if run is None:
                continue  # a run already closed (or cancelled): nothing to write it into
            touched[run_id] = run
            if fields[b"kind"] == b"capture":
                capture = read_capture(fields)
                for review in capture.reviews:
                    reviewed.setdefault(review.site, set()).add(str(review.review_id))
                if self._already_written(capture):
                    continue
                run.writer.write(capture)
            else:
                event = FeedWalked.from_bytes(fields[b"data"])
                gone = run.writer.feed_walked(event)
                run.gone[event.feed] = run.gone.get(event.feed, 0) + gone
        for run in touched.values():
            run.writer.ctx.drain()  # committed: only now may the entries be acknowledged
        for site, ids in reviewed.items():
            self.unpublished.setdefault(site, set()).update(ids)
        published = self._due_digests()
        deltas = {run_id: self._delta(run) for run_id, run in touched.items()}

        def acknowledge(r: Any) -> None:
            pipe = r.pipeline(transaction=True)
            _publish(pipe, published)
            for run_id, delta in deltas.items():
                for name, n in delta.items():
                    pipe.hincrby(keys.run_stats(run_id), name, n)
            for run_id, n in written.items():
                pipe.hincrby(keys.run(run_id), "written", n)
            ids = [entry_id for entry_id, _ in entries]
            pipe.xack(keys.CAPTURES, keys.WRITER_GROUP, *ids)
            # Written and acknowledged: nobody reads them again, so Redis lets them go.
            pipe.xdel(keys.CAPTURES, *ids)
            pipe.execute()

        self.link.call(acknowledge)
        for run in touched.values():
            run.sent = {k: int(v) for k, v in run.writer.stats.items()}
            run.gone.clear()
        self.written.clear()

    def _due_digests(self, now: bool = False) -> dict[str, KnownReviews]:
        """The archived digests of the reviews written since they were last published, once
        `PUBLISH_SECONDS` have passed (or `now`); else nothing yet. Published late, a digest
        only makes a worker in update mode read a page more (a review not known yet, or known
        in an older version, is not "archived and unchanged"); every one is published before
        its run is closed, and all of them when a writer starts."""
        if not self.unpublished or (
            not now and time.monotonic() - self._published < PUBLISH_SECONDS
        ):
            return {}
        due, self.unpublished = self.unpublished, {}
        self._published = time.monotonic()
        return {site: KnownReviews.read(self.db_path, site, ids) for site, ids in due.items()}

    def _delta(self, run: OpenRun) -> dict[str, int]:
        delta = {
            k: int(v) - run.sent.get(k, 0)
            for k, v in run.writer.stats.items()
            if int(v) != run.sent.get(k, 0)
        }
        delta.pop(GONE, None)
        for feed, n in run.gone.items():
            delta[f"hoard/feed/{feed}/gone"] = n
        return delta

    def _already_written(self, capture: Capture) -> bool:
        from reviewhoard.archive.queries import page_fetched
        from reviewhoard.archive.store import read_connection

        key = (body_sha256(capture.body), capture.fetched_at)
        if key in self.written:
            return True
        self.written.add(key)
        if self._read is None:
            if not self.db_path.exists():
                return False
            self._read = read_connection(self.db_path)
        return page_fetched(self._read, *key)

    # -- runs --

    def open_run(self, run_id: str) -> OpenRun | None:
        """The run's writer, opening its `crawls` row on first sight; None for a run closed."""
        run = self.runs.get(run_id)
        if run is not None:
            return run
        record = self.link.call(lambda r: r.hgetall(keys.run(run_id)))
        info = {_str(k): _str(v) for k, v in record.items()}
        if not info or info.get("status"):
            return None
        crawl_id = int(info["crawl_id"]) if info.get("crawl_id") else None
        if crawl_id is None or self._closed_row(crawl_id):
            # The first sight of the run, or its row was closed as killed (the writer that
            # opened it died): a row of our own, as a local run after a killed one.
            args = {"redis": self.link.url, "run": run_id, "jobs": json.loads(info["jobs"])}
            crawl_id = start_run(str(self.db_path), info["command"], json.dumps(args))
            feeds = json.loads(info.get("watch_of_feed") or "{}")
            from reviewhoard.archive.store import open_archive

            with open_archive(self.db_path) as archive:
                archive.record_crawl_feeds(crawl_id, {f: {"complete": False} for f in feeds})
            self.link.call(lambda r: r.hset(keys.run(run_id), "crawl_id", crawl_id))
        writer = ArchiveWriter(str(self.db_path), crawl_id=crawl_id, batch_size=self.batch)
        run = OpenRun(run_id, crawl_id, writer)
        self.runs[run_id] = run
        return run

    def _closed_row(self, crawl_id: int) -> bool:
        from reviewhoard.archive.store import read_connection

        conn = read_connection(self.db_path)
        try:
            row = conn.execute("SELECT outcome FROM crawls WHERE id = ?", (crawl_id,)).fetchone()
        finally:
            conn.close()
        return row is None or row[0] != "running"

    def _close_finished(self) -> bool:
        """Close every active run that is done; True when no run is active any more."""
        active = sorted(_str(x) for x in self.link.call(lambda r: r.smembers(keys.ACTIVE_RUNS)))
        for run_id in active:
            if run_finished(self.link, run_id):
                self.close_run(run_id)
        return not self.link.call(lambda r: r.scard(keys.ACTIVE_RUNS))

    def close_run(self, run_id: str) -> None:
        """Judge the run as a local one, close its row, tell Redis (and so the submitter)."""
        from reviewhoard.hoard.crawl.run import CrawlResult, CrawlSpec, SpiderOutcome
        from reviewhoard.hoard.crawl.supervise import RunState, checkpoint, judge, record

        run = self.runs.pop(run_id, None) or self.open_run(run_id)
        self.runs.pop(run_id, None)
        if run is None:
            self.link.call(lambda r: r.srem(keys.ACTIVE_RUNS, run_id))
            return
        run.writer.close()
        info = {_str(k): _str(v) for k, v in self._hash(keys.run(run_id)).items()}
        outcomes = []
        for job_id in json.loads(info["jobs"]):
            job = {_str(k): _str(v) for k, v in self._hash(keys.job(job_id)).items()}
            stats = {_str(k): _number(v) for k, v in self._hash(keys.job_stats(job_id)).items()}
            spec = CrawlSpec(job["spider"], json.loads(job["args"]))
            outcomes.append(SpiderOutcome(spec, job.get("stop") or "finished", stats))
        written = {_str(k): int(v) for k, v in self._hash(keys.run_stats(run_id)).items()}
        if outcomes:
            for name, n in written.items():
                outcomes[0].stats[name] = outcomes[0].stats.get(name, 0) + n
        submitted = float(info.get("submitted_ts") or time.time())
        result = CrawlResult(run.crawl_id, outcomes, max(0.0, time.time() - submitted))
        watch_of_feed = json.loads(info.get("watch_of_feed") or "{}")
        state = RunState(feeds=list(watch_of_feed))
        outcome = judge(result, state, watch_of_feed, self.db_path)
        record(self.db_path, result, outcome)
        checkpoint(self.db_path)
        lines = [f"hoard: {alarm.line()}" for alarm in outcome.alarms]
        reason = result.reason_line()
        if reason:
            lines.append(f"hoard: {reason}")
        self.statuses.append(outcome.status)
        summary = result.summary_line()
        print(f"hoard write: run {run_id} closed: {summary}", flush=True)

        published = self._due_digests(now=True)

        def close(r: Any) -> None:
            pipe = r.pipeline(transaction=True)
            _publish(pipe, published)
            pipe.hset(
                keys.run(run_id),
                mapping={
                    "status": outcome.status,
                    "outcome": outcome.outcome,
                    "summary": summary,
                    "seconds": result.seconds,
                    "update_summary": outcome.summary("hoard update"),
                    "errors": outcome.errors,
                    "lines": json.dumps(lines),
                },
            )
            pipe.srem(keys.ACTIVE_RUNS, run_id)
            for job_id in json.loads(info["jobs"]):
                for host in r.smembers(keys.job_hosts(job_id)):
                    pipe.delete(keys.queue(job_id, _str(host)))
                pipe.delete(keys.job_seen(job_id), keys.job_hosts(job_id))
            pipe.execute()
            if _str(r.get(keys.RUN_LOCK) or b"") == run_id:
                r.delete(keys.RUN_LOCK)

        self.link.call(close)

    def _hash(self, key: str) -> dict[bytes, bytes]:
        found: Any = self.link.call(lambda r: r.hgetall(key))
        return dict(found)

    def _leave(self) -> None:
        """Stopping with runs still open: their rows say interrupted (a later writer goes on in
        a row of its own); the presence key goes."""
        for run in list(self.runs.values()):
            try:
                run.writer.finish("interrupted")
            except Exception:  # the archive is closed either way; the run goes on later
                logger.exception("could not close the row of run %s", run.run_id)
        self.runs.clear()
        if self._read is not None:
            self._read.close()
        try:
            self.link.give_up = lambda: True
            self.link.call(lambda r: r.delete(keys.WRITER))
        except Exception:  # Redis gone: the key expires by itself
            pass

    # -- signals and status --

    def _catch_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            if self.signal is None:
                self.signal = signum

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

    @property
    def status(self) -> int:
        """130/143 after a signal, else the worst status of the runs closed."""
        if self.signal == signal.SIGINT:
            return exitcodes.INTERRUPTED_SIGINT
        if self.signal == signal.SIGTERM:
            return exitcodes.INTERRUPTED_SIGTERM
        return max(self.statuses, key=STATUS_ORDER.index, default=exitcodes.OK)


def _publish(pipe: Any, published: dict[str, KnownReviews]) -> None:
    for site, known in published.items():
        if known.digests:
            pipe.hset(keys.known(site), mapping=known.digests)
        if known.cut:
            pipe.hset(keys.known_cut(site), mapping=known.cut)


def _number(value: bytes) -> int | float | str:
    text = value.decode()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def run_writer(
    url: str, db_path: Path, *, exit_when_idle: bool = False, stream: TextIO | None = None
) -> int:
    """Run the writer until SIGINT/SIGTERM (or until idle); its exit status."""
    stream = stream or sys.stderr
    link = RedisLink(url, "hoard write", stream)
    try:
        return Writer(link, db_path, exit_when_idle, stream).run()
    finally:
        link.close()
