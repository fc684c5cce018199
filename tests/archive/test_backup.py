"""`hoard backup` as a real process, taken while another process writes the archive."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# A writer that commits pairs of rows (one in each table) as fast as it can, in WAL mode: any
# snapshot that is not one transaction's view shows unequal counts.
WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("CREATE TABLE IF NOT EXISTS a (n INTEGER, pad TEXT)")
conn.execute("CREATE TABLE IF NOT EXISTS b (n INTEGER, pad TEXT)")
print("ready", flush=True)
n = 0
while True:
    n += 1
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO a VALUES (?, ?)", (n, "x" * 500))
    conn.execute("INSERT INTO b VALUES (?, ?)", (n, "y" * 500))
    conn.execute("COMMIT")
"""


def hoard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def busy_archive(tmp_path: Path):
    db = tmp_path / "archive.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    yield db
    writer.terminate()
    writer.wait()


def counts(path: Path) -> tuple[int, int, str]:
    conn = sqlite3.connect(path)
    try:
        a = conn.execute("SELECT count(*), max(n) FROM a").fetchone()
        b = conn.execute("SELECT count(*), max(n) FROM b").fetchone()
        assert a[1] == b[1]
        return a[0], b[0], conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_backup_during_writes_is_a_consistent_checked_snapshot(
    busy_archive: Path, tmp_path: Path
) -> None:
    sizes = []
    for name in ("one.db", "two.db"):
        result = hoard("backup", "--db", str(busy_archive), name, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert re.fullmatch(
            rf"hoard backup: {re.escape(str(busy_archive))} -> {name} \(\d+\.\d MB, "
            r"integrity ok\)\n",
            result.stdout,
        )
        a, b, integrity = counts(tmp_path / name)
        assert a == b > 0
        assert integrity == "ok"
        sizes.append(a)
    assert sizes[1] > sizes[0]  # the writer kept going while we copied
    assert not list(tmp_path.glob(".*partial*"))


def test_backup_into_a_folder_gets_a_time_stamped_name(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    (tmp_path / "backups").mkdir()
    result = hoard("backup", "--db", str(db), "backups", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [made] = list((tmp_path / "backups").iterdir())
    assert re.fullmatch(r"archive-\d{8}T\d{6}Z\.db", made.name)
    assert sqlite3.connect(made).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_refuses_to_overwrite_or_to_read_nothing(tmp_path: Path) -> None:
    result = hoard("backup", "--db", "missing.db", "out.db", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "hoard: no archive at missing.db; pass --db or set $HOARD_DB\n",
    )
    db = tmp_path / "archive.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    (tmp_path / "out.db").write_text("keep me")
    result = hoard("backup", "--db", str(db), "out.db", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "hoard: out.db exists; pass --force to replace it, or name a new file\n",
    )
    assert (tmp_path / "out.db").read_text() == "keep me"
    result = hoard("backup", "--db", str(db), "--force", "out.db", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sqlite3.connect(tmp_path / "out.db").execute("SELECT count(*) FROM t").fetchone() == (0,)


@pytest.mark.slow
def test_backup_while_a_real_update_writes(tmp_path: Path, mal_fixtures: Path) -> None:
    from reviewhoard.replay.manifest import Fault
    from reviewhoard.sites.myanimelist.scratch import ScratchSite
    from tests.e2e.update_support import run_hoard, start_hoard, wait_for_reviews, write_config

    with ScratchSite(tmp_path / "site", mal_fixtures) as site:
        # Page 30 of 50 is slow: the backup is taken while the run is surely in progress.
        site.publish(
            {("anime", 1): list(range(31000, 30000, -1))},
            faults={("anime", 1, 30): [Fault("delay", seconds=3)]},
        )
        watch = '[[watch]]\nsite = "mal"\nanime = [1]\n'
        config = write_config(tmp_path, site.url, watch, "HOARD_STORE_BATCH = 20\n")
        db = tmp_path / "archive.db"
        writer = start_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
        wait_for_reviews(db, 100, writer)
        result = run_hoard("backup", "--db", str(db), "during.db", cwd=tmp_path)
        still_writing = writer.poll() is None
        writer.communicate()
    assert result.returncode == 0, result.stderr
    assert writer.returncode == 0 and still_writing
    copy = sqlite3.connect(tmp_path / "during.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        reviews, versioned = copy.execute(
            "SELECT (SELECT count(*) FROM reviews), "
            "(SELECT count(DISTINCT review_id) FROM review_versions)"
        ).fetchone()
    finally:
        copy.close()
    assert 100 <= reviews < 1000 and reviews == versioned  # one moment of a run in progress


def test_force_replaces_only_a_regular_file_never_a_device_or_the_archives_own(
    tmp_path: Path,
) -> None:
    db = tmp_path / "archive.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    wal = tmp_path / "archive.db-wal"
    assert wal.exists()  # held open by `conn`
    wal_bytes = wal.read_bytes()
    for target, message in (
        ("/dev/null", "/dev/null is not a regular file (a device, a link or a folder)"),
        (str(wal), f"{wal} is the archive or one of its own files"),
        (str(db), f"{db} is the archive or one of its own files"),
    ):
        result = hoard("backup", "--db", str(db), "--force", target, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"hoard: {message}")
    assert Path("/dev/null").is_char_device()
    assert wal.read_bytes() == wal_bytes
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "elsewhere.db")
    result = hoard("backup", "--db", str(db), "--force", str(link), cwd=tmp_path)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    assert not (tmp_path / "elsewhere.db").exists()
    conn.close()


def test_a_failed_backup_leaves_nothing_half_made(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    db.write_bytes(b"this is not a SQLite file, whatever its name says" * 100)
    result = hoard("backup", "--db", str(db), str(tmp_path / "out.db"), cwd=tmp_path)
    assert result.returncode != 0 and result.stderr.startswith("hoard: backup of")
    assert len(result.stderr.strip().splitlines()) == 1
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["archive.db"]


def test_backup_json_summary(tmp_path: Path) -> None:
    import json

    db = tmp_path / "archive.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    done = hoard("backup", "--db", str(db), "--json", "out.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary == {"db": str(db), "backup": "out.db", "bytes": summary["bytes"],
                       "integrity": "ok"}  # fmt: skip
    assert summary["bytes"] == (tmp_path / "out.db").stat().st_size > 0
