"""One line and a documented exit status, never a traceback: an unreadable robots.txt, `hoard
serve` on a busy port, and a `--db` that is read-only or in a missing folder, for every command
that opens the archive. Real `hoard` processes, real sockets, real file permissions (as an
unprivileged user: root may write any file)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reviewhoard.replay.harness import run_crawl
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.e2e.update_support import count, environment

pytestmark = pytest.mark.slow

TWENTY = list(range(7020, 7000, -1))
PAGE = "anime-1-reviews-2022-10.html"
NOBODY = 65534
READ_ONLY = "it is read-only here; check its and its folder's permissions"


class RobotsInFront:
    """An HTTP server answering /robots.txt as told (a status and body, or a dropped
    connection) and passing every other request to `upstream`; it logs the paths asked for."""

    def __init__(self, upstream: str, status: int, body: bytes, drop: bool = False) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                outer.paths.append(self.path)
                if self.path == "/robots.txt":
                    if drop:
                        self.close_connection = True
                        return
                    self._send(status, body, "text/plain")
                    return
                try:
                    with urllib.request.urlopen(upstream + self.path, timeout=10) as answer:
                        self._send(answer.status, answer.read(), answer.headers["Content-Type"])
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read(), "text/plain")

            def _send(self, code: int, payload: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RobotsInFront:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site(tmp_path: Path, mal_fixtures: Path) -> Iterator[ScratchSite]:
    with ScratchSite(tmp_path / "site", mal_fixtures) as scratch:
        scratch.publish({("anime", 1): TWENTY})
        yield scratch


UNREADABLE = {
    "server error": (500, b"<html><body>Internal Server Error</body></html>", False, {}),
    "dropped connection": (200, b"", True, {"RETRY_TIMES": "0"}),
    "over the size limit": (
        200, b"# " + b"x" * 300_000 + b"\n", False, {"DOWNLOAD_MAXSIZE": "100000"}
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_an_unreadable_robots_txt_stops_the_crawl_in_one_line(
    case: str, site: ScratchSite, tmp_path: Path
) -> None:
    status, body, drop, settings = UNREADABLE[case]
    db = tmp_path / "a.db"
    with RobotsInFront(site.url, status, body, drop) as front:
        done = run_crawl(db, front.url, ["--anime", "1"], settings, site="mal")
        asked = list(front.paths)
    assert done.returncode == 3, done.stdout + done.stderr
    assert set(asked) == {"/robots.txt"}  # not one page fetched
    assert "Traceback" not in done.stderr and "Internal Server Error" not in done.stderr
    stop = [line for line in done.stderr.splitlines() if line.startswith("hoard: crawl stopped")]
    assert len(stop) == 1, done.stderr
    host = front.url.removeprefix("http://")
    assert stop[0].startswith(f"hoard: crawl stopped (robots_unreadable): robots.txt of {host} ")
    assert stop[0].endswith("(RFC 9309): try again later")
    cause = {
        "server error": f"({front.url}/robots.txt answered HTTP 500)",
        "dropped connection": "(ConnectionDone: Connection was closed cleanly.)",
        "over the size limit": "(DownloadCancelledError: Expected to receive 300003 bytes",
    }[case]
    assert cause in stop[0]
    assert "alarm (robots_unreadable)" in done.stdout
    assert count(db, "reviews") == 0


READABLE = {
    "no robots.txt (404)": (404, b"not here"),
    "bytes that are not UTF-8, no rules": (200, bytes(range(128, 256)) * 8 + b"\n"),
}


@pytest.mark.parametrize("case", sorted(READABLE))
def test_a_missing_or_garbled_robots_txt_allows_the_crawl(
    case: str, site: ScratchSite, tmp_path: Path
) -> None:
    status, body = READABLE[case]
    db = tmp_path / "a.db"
    with RobotsInFront(site.url, status, body) as front:
        done = run_crawl(db, front.url, ["--anime", "1"], site="mal")
    assert (done.returncode, done.stderr) == (0, "")
    assert count(db, "reviews") == 20


def test_garbled_bytes_do_not_hide_the_readable_rules(site: ScratchSite, tmp_path: Path) -> None:
    body = b"\xff\xfe\x80 junk\nUser-agent: *\nDisallow: /anime/\n"
    with RobotsInFront(site.url, 200, body) as front:
        done = run_crawl(tmp_path / "a.db", front.url, ["--anime", "1"], site="mal")
        asked = list(front.paths)
    assert done.returncode == 1, done.stderr
    assert set(asked) == {"/robots.txt"}
    assert "Forbidden by robots.txt" in done.stderr and "Traceback" not in done.stderr


def test_serve_on_a_busy_port_is_one_line_and_exit_2(tmp_path: Path, mal_fixtures: Path) -> None:
    db = tmp_path / "a.db"
    imported = hoard("import", str(mal_fixtures / PAGE), "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = hoard("serve", "--db", str(db), "--port", str(port), timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"hoard: cannot serve on 127.0.0.1:{port}: the port is in use (another hoard serve?); "
        "pass another --port\n"
    )


def hoard(
    *args: str, cwd: Path | None = None, user: list[str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(user or []), sys.executable, "-m", "reviewhoard.hoard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(),
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def unprivileged() -> list[str]:
    """How to run a command as a user the file permissions apply to."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file permissions would not apply")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="hoard-perm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for folder in [path, *(p for p in path.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        shutil.rmtree(path)


def archive_as(owner: Path, mal_fixtures: Path, folder: Path) -> Path:
    """An archive of one page in `folder`, both owned by the unprivileged user when root."""
    folder.mkdir()
    db = folder / "a.db"
    done = hoard("import", str(mal_fixtures / PAGE), "--db", str(db))
    assert done.returncode == 0, done.stderr
    if os.geteuid() == 0:
        for path in [folder, *folder.iterdir()]:
            os.chown(path, NOBODY, NOBODY)
    return db


def writers(db: Path, mal_fixtures: Path, config: Path) -> dict[str, list[str]]:
    """Every command that writes the archive, on `db`; the crawl's site is never reached."""
    return {
        "import": ["import", str(mal_fixtures / PAGE), "--db", str(db)],
        "reparse": ["reparse", "--db", str(db)],
        "crawl": ["crawl", "mal", "--anime", "1", "--db", str(db),
                  "--base-url", "http://127.0.0.1:9"],
        "update": ["update", "--config", str(config), "--db", str(db)],
    }  # fmt: skip


def watchlist(folder: Path) -> Path:
    config = folder / "hoard.toml"
    config.write_text(
        '[settings]\nMAL_BASE_URL = "http://127.0.0.1:9"\n\n[[watch]]\nsite = "mal"\nanime = [1]\n',
        encoding="utf-8",
    )
    config.chmod(0o644)
    return config


def test_a_read_only_archive_file_is_refused_in_one_line_by_every_writer(
    open_dir: Path, mal_fixtures: Path, unprivileged: list[str]
) -> None:
    db = archive_as(open_dir, mal_fixtures, open_dir / "archive")
    db.chmod(0o444)
    before = db.read_bytes()
    config = watchlist(open_dir)
    for name, args in writers(db, mal_fixtures, config).items():
        done = hoard(*args, cwd=open_dir, user=unprivileged)
        assert (name, done.returncode, done.stdout) == (name, 2, ""), done.stderr
        assert done.stderr == (
            f"hoard: cannot open {db} as an archive ([Errno 13] the file is read-only): "
            f"{READ_ONLY}\n"
        ), name
    assert db.read_bytes() == before
    # Reading needs no writing: a read-only archive is still served.
    served = serve_and_ask(db, open_dir, unprivileged)
    assert served == 200


def test_an_archive_in_a_read_only_folder_is_refused_in_one_line(
    open_dir: Path, mal_fixtures: Path, unprivileged: list[str]
) -> None:
    folder = open_dir / "archive"
    db = archive_as(open_dir, mal_fixtures, folder)
    for side in folder.glob("a.db*"):
        if side != db:
            side.unlink()  # as a copied archive arrives: no -wal, -shm or lock file yet
    folder.chmod(
        stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    )
    config = watchlist(open_dir)
    lock = folder / "a.db.lock"
    for name, args in writers(db, mal_fixtures, config).items():
        done = hoard(*args, cwd=open_dir, user=unprivileged)
        assert (name, done.returncode, done.stdout) == (name, 2, ""), done.stderr
        assert done.stderr == (
            f"hoard: cannot open {db} as an archive ([Errno 13] Permission denied: "
            f"'{lock}'): {READ_ONLY}\n"
        ), name
    served = hoard("serve", "--db", str(db), "--port", "9", cwd=open_dir, user=unprivileged)
    assert (served.returncode, served.stdout) == (2, "")
    assert served.stderr.startswith(f"hoard: cannot open {db} as an archive (")
    assert served.stderr.endswith(f"): {READ_ONLY}\n") and served.stderr.count("\n") == 1


def test_an_archive_in_a_missing_folder(tmp_path: Path, mal_fixtures: Path) -> None:
    # Readers find no archive: one line; they create nothing.
    missing = tmp_path / "no" / "such" / "a.db"
    for name in ("reparse", "serve"):
        done = hoard(name, "--db", str(missing))
        assert (name, done.returncode, done.stdout) == (name, 2, "")
        assert done.stderr == (
            f"hoard: no archive at {missing}; fill one with `hoard import` or `hoard crawl`\n"
        )
    assert not missing.exists()
    # Writers create the archive and its folder, as they create a missing archive.
    config = watchlist(tmp_path)
    expected = {"import": (0, ""), "crawl": (69, "cannot reach"), "update": (69, "cannot reach")}
    for name, (status, said) in expected.items():
        db = tmp_path / name / "deeper" / "a.db"
        done = hoard(*writers(db, mal_fixtures, config)[name])
        assert (name, done.returncode) == (name, status), done.stderr
        assert "Traceback" not in done.stderr and said in done.stderr
        assert db.is_file()
    assert count(tmp_path / "import" / "deeper" / "a.db", "reviews") == 20


def serve_and_ask(db: Path, cwd: Path, user: list[str]) -> int:
    """Start `hoard serve` on `db`, ask it for its version page, stop it; the HTTP status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [
            *user,
            sys.executable,
            "-m",
            "reviewhoard.hoard",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            try:
                url = f"http://127.0.0.1:{port}/-/versions.json"
                with urllib.request.urlopen(url, timeout=5) as answer:
                    return int(answer.status)
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError("hoard serve did not answer")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
