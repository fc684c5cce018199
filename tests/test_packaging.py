"""The project imports and installs as ONE name, `reviewhoard` (issue 10, item 19): the folders at
the repository root are its subpackages, and nothing loads them under their old top-level names."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_PRODUCT = {"tests", "benchmarks", "setup", "conftest"}
OLD_NAMES = sorted(
    name
    for name in {p.parent.name for p in ROOT.glob("*/__init__.py")}
    | {p.stem for p in ROOT.glob("*.py")}
    if name.isidentifier() and name not in NOT_PRODUCT
)

# Everything the settings, the spiders, the sites and the CLI name by string, loaded from outside
# the checkout (so an old-style name could not be found by accident in the working directory).
LOAD_ALL = """
import json, sys
from scrapy.utils.misc import load_object, walk_modules
from reviewhoard.hoard.cli import cli
from reviewhoard.hoard.crawl.run import project_settings
from reviewhoard.sites import all_sites

settings = project_settings()
loaded = []
for key in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS"):
    for path, order in settings.getdict(key).items():
        if order is not None:
            loaded.append(load_object(path).__module__)
for name in settings.getlist("SPIDER_MODULES"):
    loaded += [m.__name__ for m in walk_modules(name)]
loaded += [type(site).__module__ for site in all_sites().values()]
for command in cli.list_commands(None):
    loaded.append(cli.get_command(None, command).callback.__module__)
print(json.dumps({"loaded": sorted(set(loaded)), "modules": sorted(sys.modules)}))
"""


def test_what_the_settings_and_the_cli_name_loads_under_reviewhoard_only(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_ALL],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert "reviewhoard.pipelines.capture" in seen["loaded"]
    assert "reviewhoard.spiders.named" in seen["loaded"]
    assert "reviewhoard.hoard.commands.export" in seen["loaded"]
    assert [m for m in seen["loaded"] if not m.startswith("reviewhoard.")] == []
    assert [m for m in seen["modules"] if m.split(".")[0] in OLD_NAMES] == []


def test_the_entry_points_name_reviewhoard_modules() -> None:
    (script,) = entry_points(group="console_scripts", name="hoard")
    assert script.value == "reviewhoard.hoard.cli:main"
    (plugin,) = entry_points(group="datasette", name="reviewhoard")
    assert plugin.value == "reviewhoard.archive.datasette"


def test_the_scrapy_project_is_reviewhoard_settings() -> None:
    cfg = (ROOT / "scrapy.cfg").read_text(encoding="utf-8")
    assert "default = reviewhoard.settings\n" in cfg
    assert OLD_NAMES  # the names that moved were found (archive, hoard, items, settings, ...)
    assert {"archive", "hoard", "items", "settings", "sites"} <= set(OLD_NAMES)
