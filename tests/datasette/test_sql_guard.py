"""Arbitrary SQL in `hoard serve` is bounded: another site's page cannot send it, and no query
can make a value bigger than the guard's limit (`select zeroblob(1e9)` is an error, not 11 GB)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reviewhoard.archive.store import open_archive
from tests.serving import hoard_serve

pytestmark = pytest.mark.slow


def test_cross_site_sql_is_refused_and_huge_values_are_errors(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    open_archive(db).close()
    with hoard_serve(db) as url:
        ok = httpx.get(f"{url}.json", params={"sql": "select 1 as one", "_shape": "array"})
        assert ok.status_code == 200 and ok.json() == [{"one": 1}]
        same_site = httpx.get(
            f"{url}.json",
            params={"sql": "select 2 as two", "_shape": "array"},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
        assert same_site.json() == [{"two": 2}]
        for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
            refused = httpx.get(f"{url}.json", params={"sql": "select 1"}, headers=headers)
            assert refused.status_code == 403, headers
            assert refused.text == "arbitrary SQL from another site's page is refused\n"
        huge = httpx.get(f"{url}.json", params={"sql": "select zeroblob(1000000000)"}, timeout=30)
        assert huge.status_code == 400
        assert "too big" in huge.text
        assert httpx.get(
            f"{url}.json", params={"sql": "select 3 as x", "_shape": "array"}
        ).json() == [{"x": 3}]  # still answering
