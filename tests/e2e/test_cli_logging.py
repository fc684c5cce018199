"""`-v`/`-vv`, `-q`, `--log-file` and `--json` on the commands that crawl (`hoard crawl SITE`,
`hoard update`, `hoard worker`): real `hoard` processes against a replay site over real HTTP,
into a real archive."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.replay.harness import hoard_executable, run_crawl
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.distributed.support import RedisServer
from tests.e2e.update_support import run_hoard, write_config

pytestmark = pytest.mark.slow

TWENTY = list(range(7020, 7000, -1))  # one page of a title's reviews
FEED = {"pages": 1, "reviews": 20, "blocks": 20, "page_errors": 0, "request_errors": 0}
SCRAPY_INFO = "[scrapy.core.engine] INFO: Spider closed (finished)"
SCRAPY_DEBUG = "[scrapy.core.engine] DEBUG: Crawled (200)"


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        scratch.publish({("anime", 1): TWENTY})
        yield scratch


def one_json_object(stdout: str) -> dict[str, Any]:
    """stdout is exactly one JSON object on one line."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout
    found: dict[str, Any] = json.loads(lines[0])
    return found


def without_timing(summary: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(summary.pop("seconds"), float)
    return summary


def test_crawl_json_summary_is_one_object_on_stdout(site: ScratchSite, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    first = run_crawl(db, site.url, ["--anime", "1", "--json"], site="mal")
    assert (first.returncode, first.stderr) == (0, "")
    assert without_timing(one_json_object(first.stdout)) == {
        "command": "crawl",
        "crawl_id": 1,
        "outcome": "ok",
        "exit": 0,
        "reviews_new": 20,
        "reviews_updated": 0,
        "reviews_unchanged": 0,
        "reviews_rejected": 0,
        "reviews_gone": 0,
        "pages": 1,
        "pages_stored": 1,
        "requests": 1,
        "errors": 0,
        "alarms": [],
        "finish_reasons": ["finished"],
        "stopped": None,
        "feeds": {"anime:1": FEED},
        "db": str(db),
    }
    # An alarm's stop: the object says so, the reason stays one line on stderr.
    site.publish({("anime", 1): TWENTY}, without_blocks=True)
    stopped = run_crawl(db, site.url, ["--anime", "1", "--json"], site="mal")
    assert stopped.returncode == 3, stopped.stderr
    summary = one_json_object(stopped.stdout)
    assert (summary["crawl_id"], summary["outcome"], summary["exit"]) == (2, "alarm", 3)
    assert summary["finish_reasons"] == ["layout_changed"]
    assert summary["stopped"].startswith("crawl stopped (layout_changed): ")
    assert f"hoard: {summary['stopped']}\n" in stopped.stderr
    assert "Traceback" not in stopped.stderr


def test_crawl_verbosity_quiet_and_log_file(site: ScratchSite, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    plain = run_crawl(db, site.url, ["--anime", "1"], site="mal")
    assert (plain.returncode, plain.stderr) == (0, "")
    assert plain.stdout.startswith("crawl 1: 1 feed(s), 1 page(s), 20 review(s) (20 new")

    info = run_crawl(db, site.url, ["--anime", "1", "-v"], site="mal")
    assert info.returncode == 0, info.stderr
    assert SCRAPY_INFO in info.stderr
    assert " DEBUG: " not in info.stderr
    assert info.stdout.startswith("crawl 2: ")

    debug = run_crawl(db, site.url, ["--anime", "1", "-vv"], site="mal")
    assert debug.returncode == 0, debug.stderr
    assert SCRAPY_INFO in debug.stderr and SCRAPY_DEBUG in debug.stderr

    log = tmp_path / "scrapy.log"
    quiet = run_crawl(db, site.url, ["--anime", "1", "-q", "--log-file", str(log)], site="mal")
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert quiet.stdout.startswith("crawl 4: ")
    text = log.read_text(encoding="utf-8")
    assert SCRAPY_INFO in text and SCRAPY_DEBUG not in text

    deeper = run_crawl(db, site.url, ["--anime", "1", "-vv", "--log-file", str(log)], site="mal")
    assert (deeper.returncode, deeper.stderr) == (0, "")
    appended = log.read_text(encoding="utf-8")
    assert appended.startswith(text) and SCRAPY_DEBUG in appended[len(text) :]

    both = run_crawl(db, site.url, ["--anime", "1", "-q", "-v"], site="mal")
    assert (both.returncode, both.stdout) == (2, "")
    assert both.stderr == "hoard: -q and -v contradict each other: pass one\n"
    nowhere = tmp_path / "no-such-folder" / "scrapy.log"
    bad = run_crawl(db, site.url, ["--anime", "1", "--log-file", str(nowhere)], site="mal")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == (f"hoard: --log-file {nowhere}: folder {nowhere.parent} does not exist\n")


def test_update_json_and_verbosity(site: ScratchSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, site.url, '[[watch]]\nsite = "mal"\nanime = [1]\n')
    db = tmp_path / "archive.db"
    first = run_hoard("update", "--json", "--config", str(config), cwd=tmp_path)
    assert (first.returncode, first.stderr) == (0, "")
    summary = without_timing(one_json_object(first.stdout))
    assert summary == {
        "command": "update",
        "crawl_id": 1,
        "outcome": "ok",
        "exit": 0,
        "reviews_new": 20,
        "reviews_updated": 0,
        "reviews_unchanged": 0,
        "reviews_rejected": 0,
        "reviews_gone": 0,
        "pages": 1,
        "pages_stored": 1,
        "requests": 1,
        "errors": 0,
        "alarms": [],
        "finish_reasons": ["finished"],
        "stopped": None,
        "feeds": {"anime:1": FEED},
        "db": str(db),
    }

    debug = run_hoard("update", "-vv", "--config", str(config), cwd=tmp_path)
    assert debug.returncode == 0, debug.stderr
    assert SCRAPY_INFO in debug.stderr and SCRAPY_DEBUG in debug.stderr
    assert debug.stdout.startswith("hoard update: ok: reviews 0 new, 0 updated, 20 unchanged")

    log = tmp_path / "scrapy.log"
    logged = run_hoard(
        "update", "-v", "--json", "--log-file", str(log), "--config", str(config), cwd=tmp_path
    )
    assert (logged.returncode, logged.stderr) == (0, "")
    again = one_json_object(logged.stdout)
    assert (again["crawl_id"], again["reviews_unchanged"], again["reviews_new"]) == (3, 20, 0)
    text = log.read_text(encoding="utf-8")
    assert SCRAPY_INFO in text and SCRAPY_DEBUG not in text


def test_worker_verbosity(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        seen = {}
        for flags in ((), ("-v",), ("-vv",)):
            done = run_hoard(
                "worker", "--redis", server.url, "--exit-when-idle", *flags, cwd=tmp_path
            )
            assert done.returncode == 0, done.stderr
            seen[flags] = (" INFO: " in done.stderr, " DEBUG: " in done.stderr)
        assert seen == {(): (False, False), ("-v",): (True, False), ("-vv",): (True, True)}
    finally:
        server.stop()


def test_help_names_the_flags() -> None:
    for args in (["crawl", "mal"], ["update"]):
        done = subprocess.run(
            [*hoard_executable(), *args, "--help"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        text = " ".join(done.stdout.split())
        for flag in ("-v, --verbose", "-q, --quiet", "--log-file", "--json", "-vv at DEBUG"):
            assert flag in text, (args, flag)
        assert "one JSON object on stdout" in text
