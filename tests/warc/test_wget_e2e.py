"""End to end with a tool made by others: GNU wget fetches the replay site's saved pages into a
WARC, `hoard import` reads it, and the archive equals the one a real `hoard crawl` makes of the
same pages; the export of that archive passes `warcio check` and imports back the same; the
crawl's own `--warc` files pass the same checks and import the same."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.replay.harness import run_crawl
from reviewhoard.replay.server import ReplaySite
from tests.warc.helpers import content, hoard, warcio_check, warcio_index

pytestmark = pytest.mark.slow

FEEDS = ["--anime", "1,32995,44511", "--manga", "1,121496"]


def wget() -> str:
    """GNU wget (`make test` installs the Debian package); skips without it, fails under CI."""
    found = shutil.which("wget")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wget is not installed; `make system` installs it")
        pytest.skip("wget is not installed (make system installs it)")
    return found


@pytest.fixture(scope="module")
def crawled(
    tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path
) -> Iterator[tuple[ReplaySite, Path, Path, list[str]]]:
    """The replay site, the archive `hoard crawl --warc DIR` made of it, DIR, and the URLs the
    crawl fetched (robots.txt aside)."""
    folder = tmp_path_factory.mktemp("wget")
    with ReplaySite(mal_fixtures) as site:
        db = folder / "crawl.db"
        warcs = folder / "crawl-warcs"
        done = run_crawl(db, site.url, [*FEEDS, "--warc", str(warcs)], site="mal")
        assert done.returncode == 0, done.stderr
        urls = [
            f"{site.url}{e['path']}?{e['query']}"
            for e in site.requests()
            if e["path"] != "/robots.txt"
        ]
        assert len(urls) == 5
        yield site, db, warcs, urls


def test_a_wget_warc_imports_as_the_archive_a_crawl_makes(crawled, tmp_path: Path):
    site, crawl_db, _, urls = crawled
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    fetched = subprocess.run(
        [
            wget(),
            "--quiet",
            "--tries=1",
            "--timeout=20",
            f"--warc-file={tmp_path / 'wget'}",
            "--input-file",
            str(listing),
            "--output-document",
            str(tmp_path / "wget.out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert fetched.returncode == 0, fetched.stderr
    made = tmp_path / "wget.warc.gz"
    types = [line.split('"warc-type": "')[1].split('"')[0] for line in warcio_index(made)]
    assert types.count("response") == 5 and types.count("request") == 5

    db = tmp_path / "wget.db"
    done = hoard("import", str(made), "--site", "mal", "--base-url", site.url, "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(
        "read 14 records from 1 WARC file (0.3 MB): 5 pages archived (0 from revisits); "
        "skipped 5 request records, 4 warcinfo, metadata and other records"
    )
    assert "62 reviews new" in done.stdout
    crawl, imported = content(crawl_db), content(db)
    assert len(crawl["reviews"]) == 62 and len(crawl["pages"]) == 5
    for table in crawl:
        assert imported[table] == crawl[table], table

    exported = tmp_path / "export.warc.gz"
    assert hoard("export", "--format", "warc", "-o", str(exported), "--db", str(db)).returncode == 0
    check = warcio_check(exported)
    assert check.returncode == 0, check.stdout + check.stderr
    again = tmp_path / "again.db"
    back = hoard("import", str(exported), "--db", str(again))
    assert back.returncode == 0, back.stderr
    assert content(again) == imported


def test_the_crawls_own_warc_files_are_valid_and_import_the_same(crawled, tmp_path: Path):
    site, crawl_db, warcs, _ = crawled
    files = sorted(warcs.iterdir())
    assert [
        f.name.endswith(".warc.gz") and f.name.startswith("reviewhoard-myanimelist-") for f in files
    ] == [True]
    check = warcio_check(files[0])
    assert check.returncode == 0, check.stdout + check.stderr
    index = warcio_index(files[0])
    kinds = [line.split('"warc-type": "')[1].split('"')[0] for line in index]
    assert kinds == ["warcinfo"] + ["response", "request"] * 6  # robots.txt and five pages
    db = tmp_path / "from-warc.db"
    done = hoard("import", str(files[0]), "--site", "mal", "--base-url", site.url, "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert content(db) == content(crawl_db)
