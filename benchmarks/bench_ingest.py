"""Ingestion on both cores: `hoard import` and `hoard reparse` with `--jobs 2` beside `--jobs 1`.

400 saved review pages (MyAnimeList reviews tabs made from the saved 2022 page by
`sites.myanimelist.synth`, 20 distinct reviews each: 8,000 reviews, 105 MB of HTML):

1. `hoard import` of the 400 files into an empty archive, `--jobs 1` and `--jobs 2` in turns, each
   a real process (start-up included), each side's median of the rounds. Bars: `--jobs 2` at
   least 1.6x `--jobs 1`, and at least 2,500 reviews/s.
2. `hoard reparse` of that archive (a fresh copy each time), the same way and the same bars.
3. Peak memory of the import: the memory of all its processes together (the command, its fork
   server and workers: the sum of their proportional set sizes, so pages they share count
   once), sampled every 20 ms from /proc. Bar: under 400 MB.

Where the time goes is measured too, in this process on the same pages: the parsers alone and the
archive's writer alone (`ArchiveWriter`, as the command uses it), so the import's ceiling on two
cores shows: the writer runs in the main process only, whatever `--jobs` is. And what the machine
itself gives for a second process on this work, with nothing of reviewhoard's between them: the
parser reading all the pages in one process, against two processes reading half each at once
(a shared machine's second core is seldom a whole one).
$BENCH_INGEST_PAGES changes the number of pages, $BENCH_INGEST_ROUNDS the rounds (default 5).
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from benchmarks import fixtures_dir, made_up_pages, write_pages

PAGES = int(os.environ.get("BENCH_INGEST_PAGES", "400"))
ROUNDS = int(os.environ.get("BENCH_INGEST_ROUNDS", "5"))
PER_PAGE = 20
BAR_RATIO = 1.6
BAR_RATE = 2_500
BAR_MEMORY_MB = 400
URL = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Run:
    """One command: wall seconds, CPU seconds of all its processes, peak memory (MB) of all of
    them together, and of the largest one."""

    seconds: float
    cpu: float
    peak_mb: float
    largest_mb: float
    main_cpu: float
    """CPU seconds of the command's own process (where the writer runs), last sampled."""


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc/PID/task/TID/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
            except OSError:
                continue
    return found


def _kilobytes(path: str, field: str) -> int | None:
    """The "FIELD: N kB" line of a /proc file, in bytes; None when the process or line is gone."""
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def _memory_bytes(pids: list[int]) -> int:
    """The processes' memory together: the sum of their proportional set sizes (a page shared
    by the fork server and its workers counted once, split between them), or of their resident
    sizes where the kernel gives no PSS."""
    total = 0
    for pid in pids:
        pss = _kilobytes(f"/proc/{pid}/smaps_rollup", "Pss:")
        if pss is not None:
            total += pss
            continue
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _largest_bytes(pids: list[int]) -> int:
    """The largest peak resident size (VmHWM) among the processes so far. Not ru_maxrss of this
    process's children: that is the largest child ever waited for, the other parts of
    `make bench` included."""
    return max((_kilobytes(f"/proc/{pid}/status", "VmHWM:") or 0 for pid in pids), default=0)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def hoard(args: list[str], cwd: Path) -> Run:
    """`hoard ARGS` as a real process, its memory sampled while it runs."""
    env = {k: v for k, v in os.environ.items() if k != "HOARD_DB"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewhoard.hoard", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak, largest, main_cpu = 0, 0, 0.0
    while process.poll() is None:
        tree = _tree(process.pid)
        peak = max(peak, _memory_bytes(tree))
        largest = max(largest, _largest_bytes(tree))
        main_cpu = max(main_cpu, _cpu_seconds(process.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    _, err = process.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"hoard {args[0]} failed: {err.decode()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(seconds, cpu, peak / 1e6, largest / 1e6, main_cpu)


def copy_archive(source: Path, target: Path) -> Path:
    """A fresh, consistent copy of an archive (WAL included)."""
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(source)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    finally:
        conn.close()
    return target


def halves(bodies: list[bytes], root: Path) -> tuple[float, float]:
    """CPU seconds of the parsers alone and of the archive's writer alone on these pages, in
    this process, the writer in one thread as `hoard import --jobs 1` uses it."""
    from reviewhoard.archive.writer import ArchiveWriter
    from reviewhoard.hoard.parse_pool import PageTask, read_task
    from reviewhoard.items import Capture

    started = time.process_time()
    reads = [read_task(PageTask(body, URL, "mal")) for body in bodies]
    parse = time.process_time() - started
    if any(len(read.reviews) != PER_PAGE for read in reads):
        raise RuntimeError("the parser did not read every page whole")
    captures = [
        Capture(
            url=read.url,
            final_url=read.url,
            status=200,
            headers={},
            body=body,
            fetched_at="2026-01-01T00:00:00Z",
            site=read.site,
            parser_version=read.parser_version,
            reviews=read.reviews,
        )
        for read, body in zip(reads, bodies, strict=True)
    ]
    started = time.process_time()
    writer = ArchiveWriter(str(root / "writer-alone.db"), command="bench", args={})
    for capture in captures:
        writer.write(capture)
    writer.finish()
    write = time.process_time() - started
    return parse, write


PARSE_ONLY = (
    "import sys\n"
    "from reviewhoard.hoard.parse_pool import PageTask, read_task\n"
    "for path in sys.argv[2:]:\n"
    "    with open(path, 'rb') as handle:\n"
    "        read = read_task(PageTask(handle.read(), sys.argv[1], 'mal'))\n"
    f"    if len(read.reviews) != {PER_PAGE}:\n"
    "        sys.exit(f'{path}: {read.refused or len(read.reviews)}')\n"
)
"""A process that only reads pages with the parser (and fails unless each gives its 20
reviews): nothing crosses, nothing is written."""


def machine_gain(files: list[str], rounds: int) -> tuple[float, float]:
    """What this machine gives for a second process on this work, whatever reviewhoard does:
    the parser reading every page in one process against two processes reading half each at
    the same time (each starting as a command does). (one's, two's) wall seconds, medians of
    `rounds` interleaved."""

    def run(groups: list[list[str]]) -> float:
        started = time.perf_counter()
        running = [
            subprocess.Popen([sys.executable, "-c", PARSE_ONLY, URL, *group]) for group in groups
        ]
        if any(process.wait() != 0 for process in running):
            raise RuntimeError("the parser-only process failed")
        return time.perf_counter() - started

    ones: list[float] = []
    twos: list[float] = []
    for attempt in range(rounds):
        sides = [(ones, [files]), (twos, [files[::2], files[1::2]])]
        for out, groups in sides if attempt % 2 == 0 else sides[::-1]:
            out.append(run(groups))
    return median(ones), median(twos)


def side_by_side(
    name: str, rounds: int, command: dict[str, list[str]], fresh: dict[str, Path], cwd: Path
) -> dict[str, list[Run]]:
    """Each side of `command` (jobs -> args) `rounds` times, in turns; `fresh[jobs]` is copied
    from before each run when given (reparse), else removed (import)."""
    runs: dict[str, list[Run]] = {jobs: [] for jobs in command}
    for attempt in range(rounds):
        order = list(command) if attempt % 2 == 0 else list(command)[::-1]
        for jobs in order:
            db = cwd / f"{name}-{jobs}-{attempt}.db"
            if jobs in fresh:
                copy_archive(fresh[jobs], db)
            runs[jobs].append(hoard([*command[jobs], "--db", str(db)], cwd))
    return runs


def report(label: str, runs: dict[str, list[Run]], reviews: int) -> tuple[float, float]:
    """Print one part's figures; (ratio, reviews/s of --jobs 2)."""
    rates = {jobs: reviews / median(r.seconds for r in done) for jobs, done in runs.items()}
    for jobs, done in runs.items():
        cpu = median(r.cpu for r in done)
        wall = median(r.seconds for r in done)
        main_cpu = median(r.main_cpu for r in done)
        print(
            f"   {label} --jobs {jobs}: {rates[jobs]:8,.0f} reviews/s  ({wall:.2f} s median of "
            f"{len(done)}: {', '.join(f'{r.seconds:.2f}' for r in done)}; CPU {cpu:.2f} s, "
            f"{cpu / wall:.2f} cores busy; the command's own process {main_cpu:.2f} s)"
        )
    ratio = rates["2"] / rates["1"]
    print(f"   {label}: --jobs 2 is {ratio:.2f}x --jobs 1")
    return ratio, rates["2"]


def main() -> bool:
    if not (fixtures_dir() / "myanimelist").is_dir():
        print(f"   skipped: saved pages not found at {fixtures_dir()}")
        return True
    bodies = made_up_pages(PAGES, first=20_000_000)
    reviews = PAGES * PER_PAGE
    megabytes = sum(len(b) for b in bodies) / 1e6
    print(
        f"   {PAGES} pages of {PER_PAGE} reviews ({reviews:,} reviews, {megabytes:,.0f} MB of "
        f"HTML), {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
        root = Path(scratch)
        files = write_pages(bodies, root)
        imports = side_by_side(
            "import",
            ROUNDS,
            {jobs: ["import", *files, "--url", URL, "--jobs", jobs] for jobs in ("1", "2")},
            {},
            root,
        )
        base = copy_archive(root / "import-1-0.db", root / "base.db")
        reparses = side_by_side(
            "reparse",
            ROUNDS,
            {jobs: ["reparse", "--jobs", jobs] for jobs in ("1", "2")},
            {"1": base, "2": base},
            root,
        )
        parse_s, write_s = halves(bodies, root)
        one_s, two_s = machine_gain(files, ROUNDS)
    import_ratio, import_rate = report("import ", imports, reviews)
    reparse_ratio, reparse_rate = report("reparse", reparses, reviews)
    peak = max(r.peak_mb for r in imports["2"])
    largest = max(r.largest_mb for r in imports["2"])
    print(
        f"   peak memory of the import --jobs 2: {peak:,.0f} MB, all its processes together "
        f"(the largest one {largest:,.0f} MB); --jobs 1: "
        f"{max(r.peak_mb for r in imports['1']):,.0f} MB"
    )
    # The main process writes every review whatever --jobs is; two cores share parse + write.
    ceiling = reviews / max(write_s, (parse_s + write_s) / 2)
    print(
        f"   where the time goes (CPU, one process): parsers {parse_s:.2f} s "
        f"({reviews / parse_s:,.0f} reviews/s), the archive's writer {write_s:.2f} s "
        f"({reviews / write_s:,.0f} reviews/s); the writer is the "
        f"{'slower' if write_s > parse_s else 'faster'} half. Ceiling on 2 cores, start-up "
        f"aside: {ceiling:,.0f} reviews/s"
    )
    gain = one_s / two_s
    print(
        f"   the machine's own gain from a second process on this work (the parser alone on "
        f"every page: one process {one_s:.2f} s, two on half each at once {two_s:.2f} s): "
        f"{gain:.2f}x; --jobs 2 also waits for the start-up and its last writes, "
        "which no second process shortens"
    )
    print(
        f"   --jobs 2's gain as a share of the machine's own: import {import_ratio / gain:.0%}, "
        f"reparse {reparse_ratio / gain:.0%}; the {BAR_RATIO}x bar asks "
        f"{BAR_RATIO / gain:.0%} of it this run"
    )
    checks = {
        f"import --jobs 2 at least {BAR_RATIO}x --jobs 1": import_ratio >= BAR_RATIO,
        f"import --jobs 2 at least {BAR_RATE:,} reviews/s": import_rate >= BAR_RATE,
        f"reparse --jobs 2 at least {BAR_RATIO}x --jobs 1": reparse_ratio >= BAR_RATIO,
        f"reparse --jobs 2 at least {BAR_RATE:,} reviews/s": reparse_rate >= BAR_RATE,
        f"peak memory of the import under {BAR_MEMORY_MB} MB": peak < BAR_MEMORY_MB,
    }
    for name, passed in checks.items():
        print(f"   [{'ok' if passed else 'MISSED'}] {name}")
    sys.stdout.flush()
    return all(checks.values())


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
