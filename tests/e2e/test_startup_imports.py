"""A command loads only what it uses: `hoard --help` imports no command module, and `hoard
stats` and `hoard extract` leave Scrapy, Twisted, Datasette and sqlite-utils unloaded. (How long
start-up takes is measured by `make bench`, not here.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewhoard.archive.connection import open_database
from reviewhoard.hoard.cli import cli
from reviewhoard.hoard.commands import SUMMARIES
from tests.conftest import fixtures_dir

HEAVY = ("scrapy", "twisted", "datasette", "sqlite_utils", "redis", "warcio")

PROBE = """
import json, sys
from reviewhoard.hoard.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps(loaded), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    last = done.stderr.strip().splitlines()[-1]
    return set(json.loads(last)), done.stdout


def test_help_lists_every_command_without_importing_one() -> None:
    loaded, out = loaded_by("--help")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    for name, summary in SUMMARIES.items():
        assert f"  {name:<12} {summary}" in out, name


def test_every_command_has_a_summary_and_every_summary_a_command() -> None:
    assert sorted(SUMMARIES) == cli.list_commands(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", ["stats", "extract"])
def test_readers_leave_the_crawler_and_the_web_app_unloaded(tmp_path: Path, command: str):
    db = tmp_path / "archive.db"
    open_database(db).close()
    page = fixtures_dir() / "myanimelist" / "anime-1-reviews-2022-10.html"
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    if command == "stats":
        loaded, out = loaded_by("stats", "--db", str(db))
    else:
        loaded, out = loaded_by("extract", str(page), "--url", url)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    if command == "stats":
        assert "  reviews" in out
    else:
        assert len(out.splitlines()) == 20 and '"review_id"' in out


def test_import_and_reparse_leave_the_crawler_and_the_web_app_unloaded(tmp_path: Path):
    # They write through the same steps as a crawl (normalize, validate, drop repeats, store):
    # those steps no longer load Scrapy to say "dropped".
    db = tmp_path / "archive.db"
    page = fixtures_dir() / "myanimelist" / "anime-1-reviews-2022-10.html"
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    loaded, out = loaded_by("import", str(page), "--url", url, "--jobs", "1", "--db", str(db))
    assert out.startswith("imported 1 page: 20 reviews new"), out
    assert not loaded & {"scrapy", "twisted", "datasette"}, loaded
    loaded, out = loaded_by("reparse", "--jobs", "1", "--db", str(db))
    assert out.startswith("reparsed 1 page"), out
    assert not loaded & {"scrapy", "twisted", "datasette"}, loaded


def test_the_crawl_writer_process_leaves_the_crawler_unloaded():
    # The crawl's writer runs in a process of its own, started beside Scrapy: what it loads
    # is CPU taken from the crawl.
    probe = (
        "import json, sys\n"
        "import reviewhoard.archive.writer_process, reviewhoard.archive.writer\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert "reviewhoard" in loaded
    assert not loaded & {"scrapy", "twisted", "datasette"}, loaded
