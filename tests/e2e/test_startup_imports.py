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
