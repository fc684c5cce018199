"""`hoard import` and `hoard reparse` on a pool of parser processes (`--jobs N`), as real processes.

- The archive is the same whatever --jobs is: every table compared row by row (saved pages of
  every site, made-up MyAnimeList pages that edit and repeat reviews, a WARC file with a
  revisit), leaving out only what differs by nature, the clock: the `crawls` row's `started_at`
  and `finished_at`, `rejects.rejected_at` (when a review was refused) and
  `_sqlite_migrations.applied_at` (when the empty archive was made).
- Results come back in the order given and the input is pulled a window at a time.
- A worker killed with SIGKILL fails the run with one line (no hang, no "ok"); Ctrl-C stops it
  cleanly with the run recorded as interrupted and no process left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.hoard.parse_pool import PageTask, ParsePool, pool_jobs, read_task
from reviewhoard.sites.myanimelist.synth import PageTemplate, load_template
from tests.archive_tables import assert_same_archive
from tests.conftest import ROOT
from tests.e2e.update_support import environment, rows, run_hoard
from tests.warc.helpers import WarcBuilder

pytestmark = pytest.mark.slow

SAVED = "anime-1-reviews-2022-10.html"
BEBOP = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
FETCHED = "2024-05-01T00:00:00Z"


@pytest.fixture(scope="module")
def template(mal_fixtures: Path) -> PageTemplate:
    return load_template(mal_fixtures / SAVED)


def write_pages(folder: Path, template: PageTemplate, count: int, first: int = 10_000) -> list[str]:
    """`count` made-up reviews pages of 20 distinct reviews each, as saved files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"page-{n:04d}.html"
        path.write_bytes(template.render(list(range(first + 20 * n, first + 20 * n + 20)), None))
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def inputs(
    tmp_path_factory: pytest.TempPathFactory, fixtures: Path, template: PageTemplate
) -> list[str]:
    """Saved pages of every site (some name no address of their own: failed, in order), made-up
    pages whose later ones edit and repeat earlier reviews, and a WARC file with a revisit."""
    root = tmp_path_factory.mktemp("inputs")
    saved = sorted(str(p) for p in fixtures.glob("*/*.html"))
    made = write_pages(root / "made", template, 24)
    edits = root / "edits"
    edits.mkdir()
    for n in range(3):  # reviews of pages 0-2 again, half of them edited
        ids = list(range(10_000 + 20 * n, 10_000 + 20 * n + 20))
        page = template.render(ids, None, edited=frozenset(ids[::2]))
        (edits / f"edit-{n}.html").write_bytes(page)
    repeats = [made[5], made[0]]  # the same bytes again: seen again, not stored twice
    builder = WarcBuilder(root / "pages.warc.gz")
    first = builder.response(f"{BEBOP}?p=2", template.render(list(range(90_000, 90_020)), None),
                             "2024-06-01T00:00:00Z")  # fmt: skip
    builder.request(f"{BEBOP}?p=2", "2024-06-01T00:00:00Z")
    builder.response(
        "https://example.org/elsewhere", b"<html>nothing</html>", "2024-06-01T00:00:01Z"
    )
    builder.response(f"{BEBOP}?p=3", template.render(list(range(90_020, 90_040)), None),
                     "2024-06-01T00:00:02Z")  # fmt: skip
    builder.revisit(first, f"{BEBOP}?p=2", "2024-06-02T00:00:00Z")
    warc = str(builder.close())
    return [*saved, *made, *sorted(str(p) for p in edits.iterdir()), *repeats, warc]


def test_import_and_reparse_write_the_same_archive_whatever_jobs(inputs: list[str], tmp_path: Path):
    runs = {}
    for jobs in ("1", "2"):
        db = tmp_path / f"jobs{jobs}.db"
        done = run_hoard(
            "import", *inputs, "--fetched-at", FETCHED, "--jobs", jobs, "--db", str(db),
            cwd=ROOT, timeout=180,
        )  # fmt: skip
        done.stdout = done.stdout.replace(str(db), "DB")
        runs[jobs] = done
        assert "Traceback" not in done.stderr
    one, two = runs["1"], runs["2"]
    # Some saved pages name no address of their own: reported in the same order, exit 1.
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert "names no address of its own" in one.stderr
    summary = one.stdout.splitlines()
    assert summary[0].startswith("read 5 records from 1 WARC file")
    assert "3 pages archived (1 from revisits)" in summary[0]
    counts = re.fullmatch(
        r"imported (\d+) pages: (\d+) reviews new, (\d+) updated, (\d+) unchanged, "
        r"0 rejected -> DB",
        summary[1],
    )
    assert counts is not None, summary[1]
    pages, new, updated, unchanged = map(int, counts.groups())
    # Made-up pages: 24 + 3 edits + 2 repeats + 3 from the WARC; 30 edits; 30 + 40 seen again.
    assert pages >= 32 and new >= 26 * 20 and updated >= 30 and unchanged >= 70
    assert_same_archive(tmp_path / "jobs1.db", tmp_path / "jobs2.db")
    made = rows(
        tmp_path / "jobs2.db",
        "SELECT count(*), sum(version_count = 2) FROM reviews "
        "WHERE CAST(review_id AS INTEGER) BETWEEN 10000 AND 10479",
    )
    assert made == [(480, 30)]  # every made-up review, and the 30 edited once
    assert rows(tmp_path / "jobs2.db", "SELECT max(fetch_count) FROM pages") == [(2,)]

    # Reparse after a parser "upgrade": every page is read again and marked with today's parser.
    for jobs in ("1", "2"):
        copy = tmp_path / f"reparse{jobs}.db"
        shutil.copy(tmp_path / "jobs1.db", copy)
        conn = sqlite3.connect(copy)
        conn.execute("UPDATE pages SET parser_version = 'stale'")
        conn.commit()
        conn.close()
        runs[jobs] = run_hoard("reparse", "--jobs", jobs, "--db", str(copy), cwd=ROOT, timeout=180)
    assert runs["1"].returncode == runs["2"].returncode == 0, runs["2"].stderr
    assert runs["1"].stdout == runs["2"].stdout
    assert runs["1"].stdout.startswith("reparsed ")
    assert re.fullmatch(r"reparsed \d+ pages: 0 reviews new, .* 0 failed\n", runs["1"].stdout)
    assert_same_archive(tmp_path / "reparse1.db", tmp_path / "reparse2.db")
    assert rows(
        tmp_path / "reparse2.db", "SELECT count(*) FROM pages WHERE parser_version = 'stale'"
    ) == [(0,)]


def test_results_come_in_the_order_given_a_window_at_a_time(template: PageTemplate):
    # A big page first: the other worker finishes the small ones behind it long before.
    big = template.render(list(range(1, 200)), None)
    smalls = [template.render([1000 + n], None) for n in range(30)]
    bodies = [big, *smalls]
    pulled: list[int] = []

    def tasks() -> Iterator[tuple[int, PageTask | None]]:
        for n, body in enumerate(bodies):
            pulled.append(n)
            yield n, PageTask(body, BEBOP, "mal")
            if n == 3:
                yield -1, None  # passed through in its place

    expected = [read_task(PageTask(body, BEBOP, "mal")) for body in bodies]
    with ParsePool(2, per_worker=2) as pool:
        results = pool.map(tasks())
        n, first = next(results)
        # The input is pulled a window at a time, not read whole first.
        assert n == 0 and len(pulled) <= pool.window + 1
        got = [(n, first), *results]
    assert [n for n, _ in got] == [0, 1, 2, 3, -1, *range(4, 31)]
    reads = [read for n, read in got if n >= 0 and read is not None]
    assert [r.url for r in reads] == [BEBOP] * 31
    assert [len(r.reviews) for r in reads] == [199] + [1] * 30
    for read, want in zip(reads, expected, strict=True):
        assert read.reviews == want.reviews
        assert (read.site, read.parser_version, read.refused) == (
            "myanimelist",
            want.parser_version,
            None,
        )
    assert dict(got)[-1] is None


def test_jobs_by_default_follow_the_cores_and_the_input():
    assert pool_jobs(None, 400, enough=True) >= 1
    assert pool_jobs(None, 400, enough=False) == 1
    assert pool_jobs(4, 2, enough=False) == 2  # never more workers than pages
    assert pool_jobs(3, 0, enough=True) == 3  # pages unknown (a WARC file)
    assert pool_jobs(1, 400, enough=True) == 1


# -- a worker killed, Ctrl-C -----------------------------------------------------------------


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def workers(pid: int, timeout: float = 60) -> list[int]:
    """The parser workers of the `hoard` process `pid` (children of its fork server), once two
    are running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children(pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"forkserver" in command:
                found = children(child)
                if len(found) >= 2:
                    return found
        time.sleep(0.02)
    raise AssertionError("no parser workers started")


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, template: PageTemplate) -> list[str]:
    """Enough pages that two workers read for a few seconds."""
    return write_pages(tmp_path_factory.mktemp("many"), template, 240, first=500_000)


def start_import(pages: list[str], db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reviewhoard.hoard",
            "import",
            *pages,
            "--jobs",
            "2",
            "--db",
            str(db),
        ],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def test_a_killed_worker_fails_the_run_with_one_line(many: list[str], tmp_path: Path):
    db = tmp_path / "archive.db"
    process = start_import(many, db)
    try:
        victim = workers(process.pid)[0]
        time.sleep(0.3)  # mid-run: pages are being read and written
        os.kill(victim, signal.SIGKILL)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 1
    assert out == ""  # never a summary, never "ok"
    assert err.splitlines() == [
        "hoard: a parser process ended abruptly (killed, or out of memory) while reading pages; "
        "the pages before it are stored"
    ]
    (run,) = rows(db, "SELECT command, outcome, finish_reason, errors FROM crawls")
    assert run == ("hoard import", "failed", "parser_process_died", 1)
    # Whole pages only, in the order given: each page stored has its 20 reviews.
    pages = rows(db, "SELECT id FROM pages ORDER BY id")
    stored = rows(db, "SELECT count(*) FROM reviews")[0][0]
    assert len(pages) < len(many) and stored == 20 * len(pages)


def test_ctrl_c_stops_cleanly_and_records_the_interruption(many: list[str], tmp_path: Path):
    db = tmp_path / "archive.db"
    process = start_import(many, db)
    try:
        pool = workers(process.pid)
        time.sleep(0.3)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the whole job
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "hoard: interrupted"
    assert out == ""
    (run,) = rows(db, "SELECT outcome, finish_reason FROM crawls")
    assert run == ("interrupted", "shutdown")
    pages = rows(db, "SELECT count(*) FROM pages")[0][0]
    assert 0 < pages < len(many) or pages == 0
    assert rows(db, "SELECT count(*) FROM reviews")[0][0] == 20 * pages
    time.sleep(0.2)
    assert [pid for pid in pool if alive(pid)] == []  # no worker left behind


def test_workers_know_the_sites_the_command_knows(tmp_path: Path):
    """A site found through $HOARD_SITE_PATH (the toy site) is read in the workers too."""
    toy = ROOT / "tests" / "toy_sites"
    pages = sorted((toy / "toy" / "pages").glob("thing-1-p*.html"))
    expected = sum(len(p.with_suffix(".expected.jsonl").read_text().splitlines()) for p in pages)
    db = tmp_path / "archive.db"
    done = run_hoard(
        "import", *map(str, pages), "--site", "toy", "--url",
        "https://toy.example/things/1/reviews?page=1", "--jobs", "2", "--db", str(db),
        cwd=ROOT, env={"HOARD_SITE_PATH": str(toy)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"imported 2 pages: {expected} reviews new, 0 updated")
    assert rows(db, "SELECT DISTINCT site FROM reviews") == [("toy",)]
