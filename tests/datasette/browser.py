"""A real browser for the tests: Debian's headless Chromium, driven through its chromedriver by
the W3C WebDriver protocol (plain JSON over HTTP, with httpx: nothing to download).

`chromium()` yields a `Browser`; it skips the calling test when Chromium or its driver is missing,
except under CI=true, where it fails (`make test` installs them: `make system`).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import free_port

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--lang=en-US",
)
WINDOW = (1366, 900)
"""The window the pages are looked at in (a laptop screen)."""

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
"""Where the last run's screenshots are kept (git-ignored)."""


def _missing(what: str) -> None:
    message = f"{what} not found: install the Debian packages chromium and chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Browser:
    """One WebDriver session: open pages, run scripts in them, take screenshots."""

    def __init__(self, base: str, session: str) -> None:
        self.base = base
        self.session = session
        self.http = httpx.Client(timeout=60)

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        url = f"{self.base}/session/{self.session}{path}"
        response = self.http.request(method, url, json=payload)
        data = response.json()
        if response.status_code != 200:
            raise AssertionError(f"webdriver {path}: {data.get('value', data)}")
        return data.get("value")

    def open(self, url: str) -> None:
        """Load `url` and wait for its load event."""
        self._call("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """The value of `script` (a function body; `arguments` are `args`) run in the page."""
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, script: str, *args: Any, timeout: float = 20, what: str = "") -> Any:
        """Poll `script` (with `args`) until it returns something truthy; fail after `timeout`
        seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or script}")
            time.sleep(0.2)

    def screenshot(self, name: str, start: str | None = None, max_height: int = 4000) -> Path:
        """The page (up to `max_height` px, from the element `start` selects, else the top) as
        SCREENSHOTS/NAME.png."""
        width, height, top = self.run(
            "const el = arguments[0] ? document.querySelector(arguments[0]) : null;"
            "const top = el ? el.getBoundingClientRect().top + window.scrollY - 16 : 0;"
            "return [document.documentElement.scrollWidth,"
            " document.documentElement.scrollHeight, Math.max(0, Math.floor(top))]",
            start,
        )
        clip = {"x": 0, "y": top, "width": width, "height": min(height - top, max_height)}
        shot = self._call(
            "POST",
            "/goog/cdp/execute",
            {
                "cmd": "Page.captureScreenshot",
                "params": {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {**clip, "scale": 1},
                },
            },
        )
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a new empty profile, until the block ends."""
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not os.path.exists(binary):
        _missing("chromium")
    if not os.path.exists(driver):
        _missing("chromedriver")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hoard-chromium-") as profile:
        proc = subprocess.Popen(
            [driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{base}/status", timeout=1).json()["value"]["ready"]:
                        break
                except (httpx.TransportError, ValueError, KeyError):
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("chromedriver did not start")
                time.sleep(0.1)
            args = [
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--window-size={},{}".format(*WINDOW),
            ]
            created = httpx.post(
                f"{base}/session",
                json={
                    "capabilities": {
                        "alwaysMatch": {
                            "browserName": "chrome",
                            "goog:chromeOptions": {"binary": binary, "args": args},
                        }
                    }
                },
                timeout=60,
            ).json()
            if "sessionId" not in created.get("value", {}):
                pytest.fail(f"chromium did not start: {created}")
            browser = Browser(base, created["value"]["sessionId"])
            try:
                yield browser
            finally:
                try:
                    browser.http.delete(f"{base}/session/{browser.session}")
                finally:
                    browser.http.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
