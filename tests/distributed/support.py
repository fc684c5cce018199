"""Helpers for the distributed crawl tests: a real `redis-server` of the test's own (append-only
file on, a free loopback port, a temp dir), `hoard` processes, and two replay sites on two
loopback addresses. (No tests here.)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A `redis-server` of our own in `directory`, append-only file on (as the README says)."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        if not Path(REDIS_SERVER).exists():
            message = f"redis-server not found ({REDIS_SERVER}): apt-get install redis-server"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--protected-mode", "yes",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        client = self.client()
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.02)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, host="127.0.0.1", socket_timeout=5)

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()  # SIGTERM: Redis flushes its append-only file and exits
        self.proc.wait(timeout=20)
        self.proc = None


def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop(kill=True)


def environment() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k != "HOARD_DB" and not k.endswith("_BASE_URL") and k != "HOARD_CONFIG"
    }


def hoard(*args: str) -> list[str]:
    return [sys.executable, "-m", "reviewhoard.hoard", *args]


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """A `hoard` process left running (stdout and stderr captured)."""
    return subprocess.Popen(
        hoard(*args),
        cwd=cwd,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        hoard(*args), cwd=cwd, env=environment(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def settings_args(settings: dict[str, Any]) -> list[str]:
    return [a for name, value in settings.items() for a in ("-s", f"{name}={value}")]


FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "HOARD_BACKOFF_BASE": 0.2}


def toml_settings(settings: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        return f'"{v}"'

    return "".join(f"{k} = {value(v)}\n" for k, v in settings.items())


def rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import sqlite3

    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        conn.close()


def picture(db: Path) -> dict[str, Any]:
    """What must be equal between two archives of the same crawls: reviews with their content,
    versions, history length and gone marks; completed texts; pages (each body once, fetched
    once per crawl); subjects. Duplicates cannot hide in it."""
    return {
        "reviews": rows(
            db,
            "SELECT site, review_id, content_hash, version_count, gone_at IS NULL, text "
            "FROM reviews ORDER BY site, review_id",
        ),
        "versions": rows(
            db,
            "SELECT site, review_id, content_hash FROM review_versions "
            "ORDER BY site, review_id, content_hash",
        ),
        "pages": rows(db, "SELECT sha256, url, status, fetch_count FROM pages ORDER BY sha256"),
        "subjects": rows(db, "SELECT site, type, subject_id FROM subjects ORDER BY 1, 2, 3"),
        "completions": rows(db, "SELECT site, review_id, text FROM text_completions ORDER BY 1, 2"),
    }


def feed_ids(title: int, count: int, start: int = 0) -> list[int]:
    """Review ids of one made-up title, newest first (distinct across titles)."""
    top = title * 10_000 + count
    return list(range(top - start, top - count, -1))


def page_paths(log: list[dict[str, Any]]) -> list[str]:
    """Review pages asked for (robots.txt left out), as path?query."""
    return [
        e["path"] + (f"?{e['query']}" if e.get("query") else "")
        for e in log
        if e["path"] != "/robots.txt"
    ]


def wait_until(predicate: Any, timeout: float, what: str, procs: list[Any] = ()) -> None:  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(f"{what}: a process ended: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError(f"{what}: not after {timeout} s")


def stop_all(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    """SIGTERM each still running, then their (status, stdout, stderr)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    out = []
    for proc in procs:
        try:
            o, e = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            o, e = proc.communicate()
        out.append((proc.returncode, o, e))
    return out
