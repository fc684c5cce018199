"""`make demo` end to end: replay site over the saved pages, real spider, ./archive.db, stats."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_demo_crawls_the_saved_pages_into_archive_db_twice(tmp_path: Path, mal_fixtures: Path):
    def demo() -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "hoard.demo"]
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    first = demo()
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("Replay site of ") and "never contacted" in lines[0]
    assert "delays are set low" in lines[1]
    assert any(
        ln.startswith("crawl 1: 4 feed(s), 4 page(s), 60 review(s) (60 new, 0 updated")
        for ln in lines
    )
    assert "Open the archive in Datasette: .venv/bin/hoard serve --db archive.db" in first.stdout
    conn = sqlite3.connect(tmp_path / "archive.db")
    try:
        per_subject = conn.execute(
            "SELECT subject_type, subject_id, count(*) FROM reviews GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    finally:
        conn.close()
    assert per_subject == [("anime", "1", 20), ("anime", "32995", 20), ("manga", "1", 20)]

    again = demo()
    assert again.returncode == 0, again.stderr
    assert "crawl 2: 4 feed(s), 4 page(s), 60 review(s) (0 new, 0 updated, 60 unchanged)" in (
        again.stdout
    )
