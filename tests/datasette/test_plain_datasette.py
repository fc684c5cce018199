"""Plain `datasette archive.db` finds the search index, and with the metadata file `hoard serve
--write-metadata` leaves, `datasette archive.db -m FILE` has the descriptions, facets, canned
queries and the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from reviewhoard.archive.metadata import datasette_metadata
from tests.archive.test_migrations import filled_archive
from tests.serving import ROOT, free_port

pytestmark = pytest.mark.slow

DATASETTE = str(Path(sys.executable).parent / "datasette")


@contextmanager
def datasette(*args: str) -> Iterator[str]:
    """`datasette ARGS` (the plain command, not `hoard serve`) until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [DATASETTE, *args, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/-/versions.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    "datasette did not start: "
                    + (proc.stderr.read().decode() if proc.stderr else "")
                )
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("plain") / "archive.db"
    filled_archive(db)
    return db


def test_plain_datasette_shows_a_search_box(archive: Path):
    with datasette(str(archive)) as base:
        page = httpx.get(f"{base}/archive/reviews", timeout=10).text
        assert '<input id="_search" type="search" name="_search"' in page
        hits = httpx.get(
            f"{base}/archive/reviews.json",
            params={"_search": "kekekeKaj", "_shape": "array"},
            timeout=10,
        ).json()
        assert [h["review_id"] for h in hits] == ["25239"]


def test_the_metadata_file_serves_plain_datasette(archive: Path, tmp_path: Path):
    meta = tmp_path / "archive-metadata.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewhoard.hoard",
            "serve",
            "--db",
            str(archive),
            "--write-metadata",
            str(meta),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"datasette {archive} -m {meta}" in done.stdout
    assert json.loads(meta.read_text(encoding="utf-8")) == json.loads(
        json.dumps(datasette_metadata("archive"))
    )
    with datasette(str(archive), "-m", str(meta)) as base:
        served = httpx.get(f"{base}/-/metadata.json", timeout=10).json()
        assert served["databases"]["archive"]["tables"]["reviews"]["fts_table"] == "reviews_fts"
        data = httpx.get(f"{base}/archive/reviews.json", params={"_size": "0"}, timeout=10).json()
        facets = data["facet_results"]
        facets = facets.get("results", facets)
        assert set(facets) == {
            "site",
            "subject_type",
            "subject_title",
            "rating",
            "recommendation",
            "tags",
        }
        rows = httpx.get(
            f"{base}/archive/rating_histogram.json",
            params={
                "site": "myanimelist",
                "subject_type": "anime",
                "subject_id": "1",
                "_shape": "array",
            },
            timeout=10,
        ).json()
        assert [r["rating"] for r in rows] == list(range(1, 11))
        assert sum(r["reviews"] for r in rows) == 24
        found = httpx.get(
            f"{base}/archive/search_reviews.json",
            params={"q": "bounty hunters", "site": "", "_shape": "array"},
            timeout=10,
        ).json()
        assert len(found) == 8 and all("<mark>" in r["snippet"] for r in found)
        dashboard = httpx.get(f"{base}/-/dashboards/reviews", timeout=10)
        assert dashboard.status_code == 200
        assert "Reviews published per month, per site" in dashboard.text
