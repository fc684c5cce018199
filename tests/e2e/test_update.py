"""`hoard update` as cron runs it: real processes, a replay site over real HTTP, a real archive."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.hoard.config import COMMON_WATCH_KEYS
from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.e2e.update_support import (
    count,
    environment,
    hoard_command,
    rows,
    run_hoard,
    write_config,
)

pytestmark = pytest.mark.slow

WATCHES = '[[watch]]\nsite = "mal"\nanime = [1]\n\n[[watch]]\nsite = "mal"\nmanga = [2]\n'
FIFTY = list(range(5050, 5000, -1))
TWENTY = list(range(7020, 7000, -1))
SUMMARY = re.compile(
    r"hoard update: (?P<outcome>\w+): reviews (?P<new>\d+) new, (?P<updated>\d+) updated, "
    r"(?P<unchanged>\d+) unchanged, (?P<gone>\d+) gone; (?P<pages>\d+) pages, "
    r"(?P<errors>\d+) errors, (?P<alarms>\d+) alarms; \d+\.\d s, crawl (?P<crawl>\d+); "
    r"exit (?P<status>\d+)\n"
)


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def summary(stdout: str) -> dict[str, str]:
    match = SUMMARY.fullmatch(stdout)
    assert match, stdout
    return match.groupdict()


def crawl_row(db: Path, crawl_id: int) -> dict[str, object]:
    [row] = rows(
        db,
        "SELECT outcome, finish_reason, reviews_new, reviews_unchanged, errors, alarms, feeds "
        "FROM crawls WHERE id = ?",
        crawl_id,
    )
    keys = ("outcome", "finish_reason", "new", "unchanged", "errors", "alarms", "feeds")
    out = dict(zip(keys, row, strict=True))
    out["alarms"] = json.loads(str(out["alarms"]))
    out["feeds"] = json.loads(str(out["feeds"]))
    return out


def test_update_runs_every_watch_and_records_each_run(site: ScratchSite, tmp_path: Path) -> None:
    site.publish({("anime", 1): FIFTY, ("manga", 2): TWENTY})
    config = write_config(tmp_path, site.url, WATCHES)
    db = tmp_path / "archive.db"

    first = run_hoard("update", "--quiet", "--config", str(config), cwd=tmp_path)
    assert (first.returncode, first.stderr) == (0, "")
    assert summary(first.stdout) == {
        "outcome": "ok",
        "new": "70",
        "updated": "0",
        "unchanged": "0",
        "gone": "0",
        "pages": "4",
        "errors": "0",
        "alarms": "0",
        "crawl": "1",
        "status": "0",
    }
    assert {r for (r,) in rows(db, "SELECT review_id FROM reviews")} == {
        str(i) for i in FIFTY + TWENTY
    }
    row = crawl_row(db, 1)
    assert (row["outcome"], row["finish_reason"], row["new"], row["errors"], row["alarms"]) == (
        "ok",
        "finished",
        70,
        0,
        [],
    )
    assert row["feeds"] == {
        "anime:1": {"pages": 3, "reviews": 50, "blocks": 50, "page_errors": 0,
                    "request_errors": 0, "complete": True},
        "manga:2": {"pages": 1, "reviews": 20, "blocks": 20, "page_errors": 0,
                    "request_errors": 0, "complete": True},
    }  # fmt: skip

    again = run_hoard("update", "--quiet", "--config", str(config), cwd=tmp_path)
    assert (again.returncode, again.stderr) == (0, "")
    got = summary(again.stdout)
    assert (got["new"], got["unchanged"], got["pages"], got["crawl"]) == ("0", "40", "2", "2")
    assert count(db, "reviews") == 70
    assert not (tmp_path / "archive.db-wal").exists() or (
        (tmp_path / "archive.db-wal").stat().st_size == 0
    )


def test_a_feed_that_quietly_finds_nothing_is_an_alarm_until_fixed(
    site: ScratchSite, tmp_path: Path, mal_fixtures: Path
) -> None:
    site.publish({("anime", 1): list(range(900, 885, -1))})  # one page of 15
    config = write_config(tmp_path, site.url, '[[watch]]\nsite = "mal"\nanime = [1]\n')
    db = tmp_path / "archive.db"
    assert run_hoard("update", "-q", "--config", str(config), cwd=tmp_path).returncode == 0
    watch = "watch #1 (myanimelist anime:1, line 9)"

    # The title's tab now reads as a title without reviews: the crawl "finishes" happily, and
    # only the archive's memory (15 reviews last time) says something is wrong.
    empty = mal_fixtures / "anime-44511-reviews-2021-old-empty.html"
    site.serve_file("/anime/1/*/reviews", empty)
    for crawl_id in (2, 3):  # and it keeps alarming until someone looks
        result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        got = summary(result.stdout)
        assert (got["outcome"], got["alarms"], got["new"], got["errors"]) == (
            "alarm",
            "2",
            "0",
            "0",
        )
        first, second = result.stderr.splitlines()
        assert first.startswith(
            "hoard: alarm feed_went_empty: feed anime:1 yielded 0 reviews from 1 pages; its last "
            f"run yielded 15 - check the page for a layout change ({watch}, "
            "https://myanimelist.net/anime/1/_/reviews?"
        )
        assert second.startswith("hoard: alarm blocks_vanished: feed anime:1: 1 pages carried 0")
        row = crawl_row(db, crawl_id)
        assert (row["outcome"], row["finish_reason"]) == ("alarm", "finished")
        alarms = row["alarms"]
        assert isinstance(alarms, list)
        assert [(a["check"], a["watch"], a["figure"], a["threshold"]) for a in alarms] == [
            ("feed_went_empty", watch, 0, 15),
            ("blocks_vanished", watch, 0, 15),
        ]
        assert all(
            a["url"].startswith("https://myanimelist.net/anime/1/_/reviews?") for a in alarms
        )

    # A redesign the parser refuses outright: the crawl stops, and says where.
    site.routes.pop(0)
    site.publish({("anime", 1): list(range(900, 885, -1))}, without_blocks=True)
    result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 3
    row = crawl_row(db, 4)
    assert (row["outcome"], row["finish_reason"]) == ("alarm", "layout_changed")
    alarms = row["alarms"]
    assert isinstance(alarms, list)
    assert [(a["check"], a["watch"], a["figure"]) for a in alarms] == [
        ("finish_reason", watch, "layout_changed"),
        ("feed_went_empty", watch, 0),
        ("blocks_vanished", watch, 0),
    ]
    assert "hoard: alarm finish_reason: the crawl stopped early: layout_changed" in result.stderr
    assert count(db, "reviews") == 15


def test_a_failed_page_among_many_is_exit_1_and_the_next_run_catches_up(
    site: ScratchSite, tmp_path: Path
) -> None:
    ids = list(range(20480, 20000, -1))  # 24 pages
    site.publish({("anime", 1): ids}, faults={("anime", 1, 24): [Fault("500")]})
    config = write_config(tmp_path, site.url, '[[watch]]\nsite = "mal"\nanime = [1]\n')
    db = tmp_path / "archive.db"
    result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    got = summary(result.stdout)
    assert (got["outcome"], got["new"], got["errors"], got["alarms"]) == (
        "partial",
        "460",
        "1",
        "0",
    )
    assert re.search(r"ERROR: anime:1: http\S+/anime/1/\S+p=24 failed", result.stderr)
    assert crawl_row(db, 1)["feeds"]["anime:1"]["complete"] is False  # type: ignore[index]

    site.publish({("anime", 1): ids})  # the site is well again
    result = run_hoard("update", "-q", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = summary(result.stdout)
    # Update mode would stop at page 1 (all known); catching up walks on to the missed page.
    assert (got["new"], got["unchanged"], got["pages"]) == ("20", "460", "24")
    assert count(db, "reviews") == 480


def test_bad_config_is_exit_2_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "hoard.toml").write_text('[[watch]]\nsite = "mal"\nanmie = [1]\n')
    result = run_hoard("update", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    known = ", ".join((*COMMON_WATCH_KEYS, "anime", "manga", "recent", "user"))
    assert result.stderr == (
        f"hoard: hoard.toml:3: unknown key 'anmie' in [[watch]] of myanimelist (known: {known}); "
        "did you mean 'anime'?\n"
    )
    missing = run_hoard("update", "--config", "nope.toml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("hoard: nope.toml: no such config file")
    assert not (tmp_path / "archive.db").exists()


def test_terminal_gets_a_progress_line_and_log_file_the_full_log(
    site: ScratchSite, tmp_path: Path
) -> None:
    site.publish({("anime", 1): FIFTY}, faults={("anime", 1, 2): [Fault("delay", seconds=1.2)]})
    config = write_config(tmp_path, site.url, '[[watch]]\nsite = "mal"\nanime = [1]\n')
    primary, secondary = os.openpty()
    try:
        proc = subprocess.run(
            [*hoard_command("update", "--config", str(config), "--log-file", "run.log")],
            cwd=tmp_path,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=60,
            check=False,
        )
        os.close(secondary)
        terminal = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0
    assert summary(proc.stdout)["new"] == "50"
    drawn = re.findall(
        rb"\r\x1b\[K(\d+) pages, (\d+) reviews \((\d+) new, 0 updated\), 0 errors, \d+\.\d s",
        terminal,
    )
    assert drawn, terminal
    # Drawn at once, then every second: page 2 is slow to come, so page 1 shows alone.
    assert drawn[0][:2] == (b"0", b"0") and (b"1", b"20") in [d[:2] for d in drawn]
    log = (tmp_path / "run.log").read_text()
    assert "Spider opened" in log and "Spider closed (finished)" in log


def test_help_teaches_the_config_cron_and_every_exit_status(tmp_path: Path) -> None:
    result = run_hoard("update", "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = result.stdout
    for line in (
        '    [[watch]]\n    site = "myanimelist"\n    anime = [1, 5114]\n',
        "0 * * * *  cd /srv/hoard && .venv/bin/hoard update -q --log-file scrapy.log >> runs.log",
        "0   all good",
        "1   the run finished, but some requests or items failed",
        "2   usage or config error",
        "3   data-quality alarm",
        "75  another run holds the archive",
        "130 / 143  stopped by SIGINT / SIGTERM",
    ):
        assert line in text, line
