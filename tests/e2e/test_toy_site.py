"""The proof that a site is one folder: a toy site that lives only in `tests/toy_sites/toy/`
(parser, feeds, two saved pages) is listed by `hoard crawl --help`, read by `hoard extract`,
accepted in a watchlist, served by the replay site and crawled end to end by `hoard crawl toy`
and `hoard update`, with nothing outside its folder naming it."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.expected import mismatches

pytestmark = pytest.mark.slow

TOY_SITES = ROOT / "tests" / "toy_sites"
PAGES = TOY_SITES / "toy" / "pages"
FIRST = "https://toy.example/things/1/reviews?page=1"
ENV = {
    **{k: v for k, v in os.environ.items() if k != "HOARD_DB" and not k.endswith("_BASE_URL")},
    "HOARD_SITE_PATH": str(TOY_SITES),
}


def hoard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def expected(name: str) -> list[dict[str, object]]:
    lines = (PAGES / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[str]:
    """`hoard replay-site` serving the toy's saved pages, found through the toy site."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "reviewhoard.hoard", "replay-site", str(PAGES), "--port", str(port)],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/_replay/log", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def served(url: str) -> list[str]:
    """The review pages the replay site answered since the last call."""
    with urllib.request.urlopen(f"{url}/_replay/log?clear=1", timeout=5) as answer:
        log = json.loads(answer.read())
    return [f"{e['path']}?{e['query']}" for e in log if e["path"].startswith("/things/")]


def test_the_toy_site_is_listed_and_extracted(tmp_path: Path) -> None:
    listed = hoard("crawl", "--help", cwd=tmp_path)
    assert listed.returncode == 0 and "toy" in listed.stdout and "--thing" in listed.stdout
    help_of_toy = hoard("crawl", "toy", "--help", cwd=tmp_path)
    assert "Thing ids whose reviews to walk" in help_of_toy.stdout
    out = hoard("extract", str(PAGES / "thing-1-p1.html"), "--url", FIRST, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert not mismatches(expected("thing-1-p1.expected.jsonl"), got)
    assert [r["review_id"] for r in got] == ["103", "102"]


def test_the_toy_site_is_crawled_and_updated_through_the_replay_site(
    tmp_path: Path, replay: str
) -> None:
    db = tmp_path / "archive.db"
    crawl = hoard(
        "crawl", "toy", "--thing", "1", "--mode", "full", "--db", str(db), "--base-url", replay,
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", cwd=tmp_path,
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    assert served(replay) == ["/things/1/reviews?page=1", "/things/1/reviews?page=2"]
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT review_id, author_name, rating, text, subject_type, subject_id FROM reviews "
        "ORDER BY review_id"
    ).fetchall()
    assert rows == [
        ("101", "cleo", None, "No stars, just words.", "thing", "1"),
        ("102", "brian", 2, "Broke after a week & a day.", "thing", "1"),
        ("103", "ada", 5, "Works as promised.\nWould buy again.", "thing", "1"),
    ]
    (tmp_path / "hoard.toml").write_text(
        f'db = "archive.db"\n[settings]\nTOY_BASE_URL = "{replay}"\nDOWNLOAD_DELAY = 0\n'
        'AUTOTHROTTLE_ENABLED = false\n[[watch]]\nsite = "toys"\nthing = [1]\n',
        encoding="utf-8",
    )
    update = hoard("update", "-q", cwd=tmp_path)
    assert update.returncode == 0, update.stderr
    assert "hoard update: ok: reviews 0 new, 0 updated, 2 unchanged" in update.stdout
    assert served(replay) == ["/things/1/reviews?page=1"]  # all known: one request
    outcomes = conn.execute("SELECT command, outcome FROM crawls ORDER BY id").fetchall()
    assert [o for _, o in outcomes] == ["ok", "ok"]
