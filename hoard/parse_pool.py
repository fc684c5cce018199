"""Pages read by their sites' parsers on a pool of worker processes, results in the order given.

`hoard import` (saved pages and WARC records) and `hoard reparse` hand every page to `ParsePool.
map()`: a `PageTask` (site key, address, body) goes to a worker process, which runs the page's
parser and sends back a `PageRead` (the reviews or completions, or why the parser refused the
page). Results come back in the order the tasks were given, whatever worker finished first, so the
one writer in the main process receives the same captures in the same order as with one process,
and the archive is the same whatever the number of workers.

- `jobs=1` runs every task in this process, through the very same function: no pool at all.
- Memory stays flat: at most `PER_WORKER` tasks per worker are in flight, handed over `CHUNK` at
  a time; the input is pulled from its iterator only as results are taken.
- Until the workers are up (a fork server loading the parsers, 0.3 s), this process reads the
  first pages itself, so start-up is not waited for.
- Workers are started by 'forkserver' (a fresh server process forks them; this process, which
  may hold SQLite connections and a writer thread, is never forked) and ignore SIGINT: Ctrl-C
  interrupts the main process only, which stops the pool after the pages being read.
- A worker that dies (kill -9, out of memory) makes `map()` raise `WorkerDied` at once, never a
  hang. Any other exception a parser raises is raised here as it would be in one process.

What crosses the pipe was measured (400 saved review pages of 20 reviews, 260 kB each): a body is
pickled in 0.15 ms, where reading it again in the worker would cost more (a WARC record's gzip
member: 1 ms; a stored page's zstd: 0.3 ms) and the main process needs the body anyway for the
`pages` table; the reviews come back pickled (0.24 ms to load a page's 20) rather than as
`Capture.to_bytes()` JSON (0.87 ms), and without the body, which the main process kept. A task
may ask the worker to pack the body for its `pages` row too (`archive.packing`: sha256 and zstd,
2 ms of a page's 11), and to check a saved page against the `--url` it is filed under
(`misfiled`): both were the main process's, which also writes every page and ran out of time
first.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from reviewhoard.archive.packing import PackedBody
    from reviewhoard.items import Review
    from reviewhoard.parsers.page import TextCompletion
    from reviewhoard.sites import Site

PER_WORKER = 8
"""Tasks in flight per worker: enough that the workers keep busy while the main process writes
a batch (500 reviews, 25 pages of 20, about 0.2 s), few enough that memory stays flat (each
body is held until written: 16 pages of 260 kB for two workers)."""

CHUNK = 4
"""Tasks handed to a worker at once, results taken back at once (at most `PER_WORKER`)."""

SITE_PATH = "HOARD_SITE_PATH"

C = TypeVar("C")


def default_jobs() -> int:
    """The number of cores this process may run on (its CPU affinity where the OS has one)."""
    count = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if count is not None:
        found: int | None = count()
    else:
        try:
            found = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            found = os.cpu_count()
    return max(1, found or 1)


@dataclass(slots=True, frozen=True)
class PageTask:
    """One page to read: what a worker needs, and nothing else (it is pickled)."""

    body: bytes
    url: str | None
    """The address the page is read at; None: the address the page names for itself (a saved
    page's canonical link, og:url or "saved from url=" comment)."""
    site: str | None
    """The key of the site whose parser reads it; None: the site serving `url`."""
    follow_ups: bool = True
    """Whether a page the parser refuses may be read as a follow-up page (a review's full
    text) instead, as a crawl or an import reads it; `hoard reparse` reads review pages only."""
    pack: bool = False
    """Whether to hash and compress the body for its `pages` row too (`archive.packing`), so
    the one writer only inserts it: a page that is new to the archive."""
    filed_at_url: bool = False
    """Whether `url` was given by the user for a saved page (`hoard import --url`): a page that
    names an address of its own elsewhere is then refused (`misfiled`)."""


@dataclass(slots=True)
class PageRead:
    """What a parser made of one page: its reviews or completions, or why it refused it."""

    site: str = ""
    """The key of the site that read it ("" when no site could be told)."""
    url: str = ""
    """The address it was read at."""
    parser_version: str = ""
    reviews: list[Review] = field(default_factory=list)
    completions: list[TextCompletion] = field(default_factory=list)
    refused: str | None = None
    """The parser's (or the address finder's) one-sentence reason, when it read nothing."""
    packed: PackedBody | None = None
    """The body packed for the archive, when the task asked and the page was read."""


def read_with(
    site: Site, url: str, body: bytes, follow_ups: bool = True
) -> tuple[list[Review], list[TextCompletion]]:
    """(reviews, completions) of a page read by `site` at `url`: a review page's reviews, or
    (with `follow_ups`) a follow-up page's whole texts. PageError when it is neither."""
    from reviewhoard.parsers import PageError

    try:
        return site.parser.parse(body, url).reviews, []
    except PageError as refused:
        if not follow_ups:
            raise
        try:
            completions = list(site.read_follow_up(body, url))
        except (PageError, NotImplementedError):
            raise refused from None
        if not completions:
            raise refused from None
        return [], completions


def read_task(task: PageTask) -> PageRead:
    """Run the task's page through its site's parser (here, or in a worker: the same code)."""
    from reviewhoard.parsers import PageError
    from reviewhoard.sites import site_for_url, site_named

    out = PageRead()
    try:
        if task.url is None:
            from reviewhoard.hoard.commands.extract import address_of

            site, url = address_of(task.body, site_named(task.site) if task.site else None)
        else:
            url = task.url
            site = site_named(task.site) if task.site else site_for_url(url)
        out.site, out.url = site.key, url
        out.parser_version = site.parser.PARSER_VERSION
        out.reviews, out.completions = read_with(site, url, task.body, task.follow_ups)
    except PageError as exc:
        out.refused = exc.reason
        return out
    if task.filed_at_url and task.url is not None:
        from reviewhoard.hoard.commands.extract import misfiled

        out.refused = misfiled(task.body, task.url, site, out.reviews)
    if task.pack and out.refused is None:
        from reviewhoard.archive.packing import pack_body

        out.packed = pack_body(task.body)
    return out


class WorkerDied(Exception):
    """A worker process ended while pages were being read (killed, out of memory)."""


def _start_worker(site_path: str | None, owner: int) -> None:
    """In each worker: leave Ctrl-C to the main process (which stops the pool in order), end
    with the main process `owner` however it ends, and find the sites the main process finds
    (a folder named in $HOARD_SITE_PATH after the fork server started)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(owner,), name="exit-with-owner", daemon=True).start()
    if site_path is None:
        os.environ.pop(SITE_PATH, None)
    else:
        os.environ[SITE_PATH] = site_path
    from reviewhoard.sites import all_sites

    all_sites()


def _exit_with(owner: int) -> None:
    """End this worker once the process `owner` has ended. A worker and the fork server hold
    copies of the pool's pipes, so when the main process dies without closing the pool (SIGKILL,
    the OOM killer) they would never read an end of file and would wait forever."""
    try:
        handle = os.pidfd_open(owner)
    except (AttributeError, OSError):  # no pidfd (not Linux 5.3+): ask every second
        while True:
            time.sleep(1)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                break
            except OSError:
                pass
    else:
        select.select([handle], [], [])  # readable once `owner` has exited
    os._exit(1)


def _site_packages() -> list[str]:
    """The modules of the project's own sites (a fork server preloads them)."""
    import pkgutil

    from reviewhoard import sites

    folder = os.path.dirname(sites.__file__ or "")
    return [f"{sites.__name__}.{m.name}" for m in pkgutil.iter_modules([folder]) if m.ispkg]


class ParsePool:
    """`jobs` worker processes reading pages (none for `jobs=1`); use as a context manager.

    `map()` yields each (context, PageRead) in input order; `context` is whatever the caller
    keeps beside a task (the body, the record's headers...): it stays in this process.
    """

    def __init__(self, jobs: int, per_worker: int = PER_WORKER) -> None:
        self.jobs = max(1, jobs)
        self.window = self.jobs * max(1, per_worker)
        self.per_chunk = min(CHUNK, max(1, per_worker))
        self.executor: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._start_error: OSError | None = None

    def __enter__(self) -> ParsePool:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.close(cancel=kind is not None)

    def start(self) -> None:
        """Start the workers, on a thread of their own: the fork server loads the sites'
        parsers (0.3 s) while the caller opens the archive, rather than after it."""
        if self.jobs == 1 or self.executor is not None or self._starting is not None:
            return
        self._starting = threading.Thread(target=self._start, name="hoard-parse-pool-start")
        self._starting.start()

    def _ready(self) -> None:
        """Wait for `start()`'s thread; without processes (it failed), parse in this one."""
        starting, self._starting = self._starting, None
        if starting is None:
            return
        starting.join()
        if self._start_error is not None:
            # No processes to be had here (a sandbox without Unix sockets, no /dev/shm): the
            # same work in this process gives the same archive, only slower. Said once.
            exc, self._start_error = self._start_error, None
            sys.stderr.write(
                f"hoard: cannot start parser processes ({exc.strerror or exc}); "
                "parsing in this one\n"
            )
            self.jobs = 1

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        # The fork server imports the parsers once; every worker is forked from it ready.
        context.set_forkserver_preload(
            [
                "reviewhoard.hoard.parse_pool",
                "reviewhoard.archive.packing",
                "reviewhoard.hoard.commands.extract",
                "zstandard",
                *_site_packages(),
            ]
        )
        executor = ProcessPoolExecutor(
            self.jobs,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.environ.get(SITE_PATH), os.getpid()),
        )
        try:
            # Workers start on first use: ask each for nothing now, so they load at once.
            for _ in range(self.jobs):
                executor.submit(int)
        except OSError as exc:
            executor.shutdown(wait=False, cancel_futures=True)
            self._start_error = exc
            return
        self.executor = executor

    def close(self, cancel: bool = False) -> None:
        """Stop the workers: after the pages in flight (which, after an error or Ctrl-C, are
        dropped)."""
        self._ready()
        executor, self.executor = self.executor, None
        if executor is None:
            return
        executor.shutdown(wait=True, cancel_futures=cancel)
        _stop_fork_server()

    def map(
        self, items: Iterable[tuple[C, PageTask | None]]
    ) -> Iterator[tuple[C, PageRead | None]]:
        """(context, result) for each (context, task) in order; a None task passes its context
        through in its place (a damaged record, an unreadable file: reported in order).
        `WorkerDied` when a worker process ended while reading."""
        items = iter(items)
        # This process reads pages itself without a pool, and until the workers are up (the
        # fork server loading the parsers): the same function, so the same results in order.
        while self.executor is None:
            if self._starting is not None and not self._starting.is_alive():
                self._ready()
                continue
            try:
                context, task = next(items)
            except StopIteration:
                return
            yield context, None if task is None else read_task(task)
        from concurrent.futures.process import BrokenProcessPool

        executor = self.executor
        # Tasks go to the workers `CHUNK` at a time: each hand-over costs the pool's threads in
        # this process a turn at the GIL, which the writer's thread also wants; one per page
        # kept the workers waiting on this process for 40% of their time.
        waiting: deque[tuple[list[tuple[C, bool]], Future[list[PageRead]] | None]] = deque()
        chunk: list[tuple[C, bool]] = []
        todo: list[PageTask] = []
        in_flight = 0

        def submit() -> None:
            nonlocal chunk, todo, in_flight
            try:
                future = executor.submit(read_tasks, todo) if todo else None
            except BrokenProcessPool:
                raise WorkerDied(DIED) from None
            waiting.append((chunk, future))
            in_flight += len(todo)
            chunk, todo = [], []

        try:
            for context, task in items:
                chunk.append((context, task is not None))
                if task is not None:
                    todo.append(task)
                if len(todo) >= self.per_chunk or (not todo and not waiting):
                    submit()
                while waiting and (in_flight >= self.window or waiting[0][1] is None):
                    contexts, reads = _take(waiting)
                    in_flight -= len(reads)
                    yield from _paired(contexts, reads)
            if chunk:
                submit()
            while waiting:
                contexts, reads = _take(waiting)
                yield from _paired(contexts, reads)
        finally:
            for _, future in waiting:
                if future is not None:
                    future.cancel()


def read_tasks(tasks: list[PageTask]) -> list[PageRead]:
    """`read_task` of each, in order (what one worker is handed at a time)."""
    return [read_task(task) for task in tasks]


def _paired(
    contexts: list[tuple[C, bool]], reads: list[PageRead]
) -> Iterator[tuple[C, PageRead | None]]:
    """Each context with its task's result, in order (None for a context without a task)."""
    results = iter(reads)
    for context, had_task in contexts:
        yield context, next(results) if had_task else None


def _stop_fork_server() -> None:
    """Stop the fork server once its workers are gone, as multiprocessing's own tests do: waited
    for, its CPU time and memory (and its workers') count in this process's children's, and
    no process is left behind in a long-lived caller. The next pool starts another."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if callable(stop):
        with contextlib.suppress(OSError, ChildProcessError):
            stop()


DIED = "a parser process ended abruptly (killed, or out of memory) while reading pages"


def _take(
    waiting: deque[tuple[list[tuple[C, bool]], Future[list[PageRead]] | None]],
) -> tuple[list[tuple[C, bool]], list[PageRead]]:
    """The oldest chunk's contexts and results (waited for)."""
    from concurrent.futures.process import BrokenProcessPool

    contexts, future = waiting.popleft()
    if future is None:
        return contexts, []
    try:
        return contexts, future.result()
    except BrokenProcessPool:
        raise WorkerDied(DIED) from None


@contextlib.contextmanager
def whole() -> Iterator[None]:
    """Ctrl-C held back for the length of the block (one page handed to the writer), then
    raised: an interrupted run never leaves a page's row without the reviews read from it. A
    second Ctrl-C inside the block is not held back. Only in the main thread (where Python
    handles signals); elsewhere the block runs as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: object) -> None:
        if held:
            raise KeyboardInterrupt
        held.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt


def pool_jobs(jobs: int | None, pages: int, enough: bool) -> int:
    """Workers to use: `jobs` as asked (never more than `pages` when that is known, > 0);
    by default the cores, or 1 when the input is too small (`enough` False) to repay starting a
    pool (about 0.3 s)."""
    if jobs is None:
        jobs = default_jobs() if enough else 1
    if pages > 0:
        jobs = min(jobs, pages)
    return max(1, jobs)
