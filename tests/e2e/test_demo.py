"""`make demo` end to end: replay site over the saved pages, real `hoard crawl` twice (the site as
it was, then later), ./archive.db keeping the edits and the rename, then one update run."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def demo(cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "reviewhoard.hoard.demo"]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=180)


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_demo_archives_two_states_of_the_site_then_updates(tmp_path: Path, mal_fixtures: Path):
    first = demo(tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert out.startswith("Replay site of the saved pages") and "never contacted" in out
    assert "crawl 1: 3 feed(s), 3 page(s), 40 review(s) (40 new, 0 updated, 0 unchanged)" in out
    assert "crawl 2: 4 feed(s), 4 page(s), 60 review(s) (24 new, 3 updated, 33 unchanged)" in out
    assert "crawl 3: 1 feed(s), 1 page(s), 30 review(s) (30 new, 0 updated, 0 unchanged)" in out
    assert "imported 1 page: 12 reviews new, 0 updated, 0 unchanged, 0 rejected" in out
    assert "Browse it in Datasette: .venv/bin/hoard serve --db archive.db" in out
    assert "edited reviews            2" in out

    db = tmp_path / "archive.db"
    assert query(
        db, "SELECT subject_type, subject_id, count(*) FROM reviews GROUP BY 1, 2 ORDER BY 1, 2"
    ) == [
        ("anime", "1", 24),
        ("anime", "32995", 20),
        ("book", "14476341", 30),
        ("film", "784328", 12),
        ("manga", "1", 20),
    ]
    assert query(db, "SELECT site, count(*) FROM reviews GROUP BY 1 ORDER BY 1") == [
        ("goodreads", 30),
        ("letterboxd", 12),
        ("myanimelist", 64),
    ]
    versions = query(
        db, "SELECT review_id, count(*) FROM review_versions GROUP BY 1 HAVING count(*) > 1"
    )
    assert sorted(versions) == [("144725", 2), ("293082", 2)]
    assert query(db, "SELECT author_name FROM reviews WHERE review_id = '25239'") == [
        ("kekekeKaj",)
    ]
    assert query(db, "SELECT former_names FROM authors WHERE name = 'kekekeKaj'") == [
        ('["kajia"]',)
    ]

    again = demo(tmp_path)
    assert again.returncode == 0, again.stderr
    assert "archive.db exists: one update run" in again.stdout
    assert (
        "crawl 5: 4 feed(s), 4 page(s), 60 review(s) (0 new, 0 updated, 60 unchanged), "
        "5 request(s), 0 failed" in again.stdout
    )
    assert "crawl 6: 1 feed(s), 1 page(s), 30 review(s) (0 new, 0 updated, 30 unchanged)" in (
        again.stdout
    )
