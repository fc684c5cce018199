"""Web archives in and out, each beside its baseline in the same run.

1. Import: `hoard import` of a WARC holding N saved pages (gzip per record, written by warcio)
   against `hoard import` of the same N pages as files, both real processes into empty archives.
   The WARC's extra work (gunzip, record and HTTP headers, block and payload digests checked) must
   keep at least 0.8x the files' rate (each side's median of 3 runs, taken in turns; the ratio
   of the processes' CPU seconds is shown too, as a shared machine's load moves wall time).
2. Export: `hoard export --format warc`'s writer (stored pages read back and decompressed, headers
   renamed, digests, gzip per record) against warcio writing the same records bare from memory,
   in this process. Bar: at least 0.5x warcio's rate. warcio's own writer compresses at gzip level
   9 and ours at 6 (2% larger files, about twice as fast), so warcio bare at level 6 is shown too.

The pages are MyAnimeList reviews tabs made from the saved 2022 page (`sites.myanimelist.synth`),
20 distinct reviews each. $BENCH_WARC_PAGES changes N (default 150).
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from statistics import median

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from benchmarks import fixtures_dir, made_up_pages, write_pages

PAGES = int(os.environ.get("BENCH_WARC_PAGES", "150"))
BAR_IMPORT = 0.8
ROUNDS = 3
BAR_EXPORT = 0.5
URL = "https://myanimelist.net/anime/1/_/reviews?sort=newest&preliminary=on&spoiler=on&p={}"


def http_headers(body: bytes) -> StatusAndHeaders:
    return StatusAndHeaders(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )


def write_warc(path: Path, pages: list[bytes], level: int | None = None) -> float:
    """warcio writing every page as a response record, gzip per record; seconds. `level`:
    another gzip level than warcio's own (9), for the like-for-like figure."""
    started = time.perf_counter()
    with open(path, "wb") as handle:
        if level is None:
            writer = WARCWriter(handle, gzip=True)
        else:
            from reviewhoard.hoard.warc_output import _GzipMembers

            writer = WARCWriter(_GzipMembers(handle, level), gzip=False)
        for n, body in enumerate(pages):
            record = writer.create_warc_record(
                URL.format(1),
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=http_headers(body),
                warc_headers_dict={"WARC-Date": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"},
            )
            writer.write_record(record)
    return time.perf_counter() - started


def hoard_import(args: list[str], db: Path) -> tuple[float, float]:
    """`hoard import ARGS --db DB` as a process: (wall seconds, CPU seconds of the process)."""
    env = {k: v for k, v in os.environ.items() if k != "HOARD_DB"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", "import", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"hoard import failed: {done.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def export_seconds(db: Path, out: Path) -> float:
    """Our WARC export of the archive at `db`, in this process; seconds."""
    from reviewhoard.archive.store import read_connection
    from reviewhoard.hoard.commands.export import export_warc

    conn = read_connection(str(db))
    try:
        started = time.perf_counter()
        with open(out, "wb") as handle:
            export_warc(conn, handle, name=out.name, db_path=str(db), site=None, since=None)
        return time.perf_counter() - started
    finally:
        conn.close()


def main() -> bool:
    if not (fixtures_dir() / "myanimelist").is_dir():
        print(f"   skipped: saved pages not found at {fixtures_dir()}")
        return True
    pages = made_up_pages(PAGES, first=10_000_000)
    megabytes = sum(len(p) for p in pages) / 1e6
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as scratch:
        root = Path(scratch)
        files = write_pages(pages, root)
        warc = root / "pages.warc.gz"
        write_warc(warc, pages)
        # Files and WARC in turns, each side's median of ROUNDS: load drifting on a shared
        # machine favours neither side, and one lucky or unlucky run decides nothing.
        times: dict[str, list[tuple[float, float]]] = {"files": [], "warc": []}
        for attempt in range(ROUNDS):
            runs = [
                ("files", [*files, "--url", URL.format(1)]),
                ("warc", [str(warc)]),
            ]
            for side, args in runs if attempt % 2 == 0 else runs[::-1]:
                times[side].append(hoard_import(args, root / f"{side}-{attempt}.db"))
        files_rate = PAGES / median(t[0] for t in times["files"])
        warc_rate = PAGES / median(t[0] for t in times["warc"])
        import_ratio = warc_rate / files_rate
        cpu_ratio = median(t[1] for t in times["files"]) / median(t[1] for t in times["warc"])

        bare9 = min(write_warc(root / f"bare9-{n}.warc.gz", pages) for n in range(2))
        bare6 = min(write_warc(root / f"bare6-{n}.warc.gz", pages, level=6) for n in range(2))
        ours = min(export_seconds(root / "warc-0.db", root / f"ours-{n}.warc.gz") for n in range(2))
        sizes = {
            "bare9": (root / "bare9-0.warc.gz").stat().st_size / 1e6,
            "bare6": (root / "bare6-0.warc.gz").stat().st_size / 1e6,
            "ours": (root / "ours-0.warc.gz").stat().st_size / 1e6,
        }
    export_ratio = bare9 / ours
    print(f"   {PAGES} pages of 20 reviews ({megabytes:,.1f} MB of HTML), zlib {zlib.ZLIB_VERSION}")
    print(f"   import: files      {files_rate:8,.1f} pages/s   (hoard import PAGE... --url)")
    print(
        f"   import: WARC       {warc_rate:8,.1f} pages/s   (hoard import FILE.warc.gz)  "
        f"{import_ratio:.2f}x the files' rate (bar >= {BAR_IMPORT}x); {cpu_ratio:.2f}x in CPU "
        "time"
    )
    print(
        f"   export: warcio     {PAGES / bare9:8,.1f} pages/s   (bare WARCWriter, gzip -9, "
        f"{sizes['bare9']:.1f} MB)"
    )
    print(
        f"   export: warcio -6  {PAGES / bare6:8,.1f} pages/s   (bare, our gzip level, "
        f"{sizes['bare6']:.1f} MB)"
    )
    print(
        f"   export: hoard      {PAGES / ours:8,.1f} pages/s   (from the archive, gzip -6, "
        f"{sizes['ours']:.1f} MB)  {export_ratio:.2f}x warcio's rate (bar >= {BAR_EXPORT}x); "
        f"{bare6 / ours:.2f}x at the same level"
    )
    passed = import_ratio >= BAR_IMPORT and export_ratio >= BAR_EXPORT
    print(f"   {'PASS' if passed else 'FAIL'}")
    return passed


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
