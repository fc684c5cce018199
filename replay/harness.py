"""Real crawls against a replay site, as the demo, the end-to-end tests and the benchmark run them.

`run_crawl` runs `hoard crawl SITE` as a real subprocess against a replay site (Twisted's reactor
runs once per process). A site can bring made-up feeds of its own to serve (a `ScratchSite`
in its folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

FAST_SETTINGS: dict[str, str] = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "HOARD_BACKOFF_BASE": "0.2",
}
"""Delays off: for a local replay site only, never for the real site."""


def hoard_executable() -> list[str]:
    """How to start `hoard` with this interpreter (works without the venv's bin on PATH)."""
    return [sys.executable, "-m", "reviewhoard.hoard"]


def run_crawl(
    db: Path,
    base_url: str,
    args: list[str],
    settings: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
    *,
    site: str,
) -> subprocess.CompletedProcess[str]:
    """`hoard crawl SITE ARGS --db DB --base-url BASE_URL -s ...` in a subprocess; its result."""
    cmd = [*hoard_executable(), "crawl", site, *args, "--db", str(db), "--base-url", base_url]
    for name, value in {**FAST_SETTINGS, **(settings or {})}.items():
        cmd += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if k != "HOARD_DB" and not k.endswith("_BASE_URL")}
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False
    )


def review_page_requests(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests of a log that asked for a page of reviews (not robots.txt)."""
    return [e for e in log if e["path"].endswith(("/reviews", "/reviews.php"))]
