"""`hoard extract`, run as the real installed `hoard` process on saved pages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HOARD = str(Path(sys.executable).with_name("hoard"))
TAB_URL = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"


def hoard(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [HOARD, *args], input=stdin, capture_output=True, timeout=60, cwd=ROOT, check=False
    )


def test_prints_one_contract_review_per_line(mal_fixtures: Path) -> None:
    page = mal_fixtures / "anime-1-reviews-2022-10.html"
    done = hoard("extract", str(page), "--url", TAB_URL)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    lines = done.stdout.decode("utf-8").splitlines()
    expected = (mal_fixtures / "anime-1-reviews-2022-10.expected.jsonl").read_text("utf-8")
    want = [json.loads(line) for line in expected.splitlines()]
    got = [json.loads(line) for line in lines]
    assert [g["review_id"] for g in got] == [w["review_id"] for w in want]
    assert [g["text"] for g in got] == [w["text"] for w in want]
    assert got[0]["reactions"] == want[0]["reactions"]
    assert got[0]["published_at"] == "2008-08-24T05:46:00"
    # UTF-8 as is, not \\u escapes: "Ed’s" appears in the first review
    assert "Ed’s" in lines[0]


def test_failing_page_prints_none_of_its_reviews(mal_fixtures: Path, tmp_path: Path) -> None:
    good = mal_fixtures / "manga-121496-reviews-excerpt-2026-07.html"
    mobile = mal_fixtures / "mobile-anime-1535-main-2024-05.html"
    cut = tmp_path / "cut.html"
    body = (mal_fixtures / "anime-1-reviews-2022-10.html").read_bytes()
    cut.write_bytes(body[: len(body) // 2])
    done = hoard(
        "extract",
        str(mobile),
        str(good),
        str(cut),
        "--url",
        "https://myanimelist.net/manga/121496/x",
    )
    assert done.returncode == 1
    ids = [json.loads(line)["review_id"] for line in done.stdout.splitlines()]
    assert ids == ["431784", "318337"]
    errors = done.stderr.decode("utf-8").splitlines()
    assert errors == [
        f"hoard: {mobile}: mobile layout: review text is truncated and scores are missing; "
        "fetch with a desktop User-Agent",
        f"hoard: {cut}: page is cut short (no closing </html>): its last review may be partial; "
        "fetch it again",
    ]


def test_page_without_reviews_prints_nothing_and_succeeds(mal_fixtures: Path) -> None:
    page = mal_fixtures / "anime-44511-reviews-2021-old-empty.html"
    done = hoard("extract", str(page), "--url", "https://myanimelist.net/anime/44511/x/reviews")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", b"")


def test_unknown_site_is_a_usage_error(mal_fixtures: Path) -> None:
    page = mal_fixtures / "anime-1-reviews-2022-10.html"
    done = hoard("extract", str(page), "--url", "https://example.com/reviews")
    assert done.returncode == 2
    assert done.stdout == b""
    [line] = done.stderr.decode("utf-8").splitlines()
    assert line.startswith(f"hoard: {page}: unknown site for URL 'https://example.com/reviews'")
    assert "--site" in line


def test_site_option_reads_a_mirror_and_stdin(mal_fixtures: Path) -> None:
    body = (mal_fixtures / "manga-121496-reviews-excerpt-2026-07.html").read_bytes()
    done = hoard(
        "extract",
        "-",
        "--url",
        "http://127.0.0.1:9/manga/121496/x/reviews",
        "--site",
        "mal",
        stdin=body,
    )
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout.splitlines()[0])
    assert (first["site"], first["review_id"], first["subject"]["id"]) == (
        "myanimelist",
        "431784",
        "121496",
    )


def test_not_html_and_missing_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    missing = tmp_path / "missing.html"
    done = hoard("extract", str(junk), str(missing), "--url", TAB_URL)
    assert done.returncode == 1
    assert done.stdout == b""
    errors = done.stderr.decode("utf-8").splitlines()
    assert len(errors) == 2
    assert errors[0].startswith(f"hoard: {junk}: not an HTML page")
    assert (
        errors[1]
        == f"hoard: {missing}: cannot read the file (No such file or directory); check the path"
    )


def test_help_teaches_with_an_example() -> None:
    done = hoard("extract", "--help")
    assert done.returncode == 0
    text = done.stdout.decode("utf-8")
    assert "hoard extract saved/reviews-page.html" in text
    assert "--url URL" in text and "--site SITE" in text


def test_version_and_completion() -> None:
    assert hoard("-V").stdout.decode().startswith("hoard, version ")
    assert hoard("--version").stdout.decode().startswith("hoard, version ")


def test_standard_input_and_devices_are_read_to_16_mb_at_most(tmp_path: Path) -> None:
    url = "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews"
    for source in ("/dev/zero",):
        done = subprocess.run(
            [sys.executable, "-m", "reviewhoard.hoard", "import", source, "--url", url, "--db",
             str(tmp_path / "a.db")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert f"hoard: {source}: cannot read the file (over 16 MB" in done.stderr
    closed = subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", "extract", "-", "--url", url],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert closed.returncode == 1 and closed.stdout == ""
    assert closed.stderr == "hoard: -: empty page (0 bytes): fetch it again\n"


def test_a_page_without_schemaorg_reviews_says_so_on_stderr() -> None:
    page = ROOT / "tests" / "sites" / "schemaorg" / "pages" / "factcheck-no-reviews.html"
    done = subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", "extract", str(page), "--url", "https://example.org/a",
         "--site", "schemaorg"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == f"hoard: {page}: no reviews on this page\n"
