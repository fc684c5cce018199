"""A company's reply that appears or changes after the review is history, not an overwrite:
every value it has had is kept in `extra_history` with when it was first seen, while the review
itself (its text and rating) keeps its one version."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from reviewhoard.archive.writer import ArchiveWriter
from reviewhoard.items import Capture
from reviewhoard.sites import all_sites
from tests.conftest import fixtures_dir
from tests.e2e.site_replay import edit_next_data

URL = "https://www.trustpilot.com/review/eventnet.de?languages=all&sort=recency"
QUIET = "667d00c443645513f3ae5f18"  # no reply on the saved page


def capture(at: str, reply: dict[str, Any] | None) -> Capture:
    saved = (fixtures_dir() / "trustpilot" / "review-eventnet.de-2024-07.html").read_bytes()

    def edit(data: dict[str, Any]) -> None:
        for review in data["props"]["pageProps"]["reviews"]:
            if review["id"] == QUIET:
                review["reply"] = reply

    body = edit_next_data(saved, edit)
    site = all_sites()["trustpilot"]
    reviews = site.parser.parse(body, URL).reviews
    return Capture(URL, URL, 200, {}, body, at, site.key, "1", reviews=reviews)


def test_a_reply_that_appears_then_changes_is_kept_as_history(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    first = {"message": "Thank you for your review!", "publishedDate": "2024-07-02T09:00:00.000Z",
             "updatedDate": None}  # fmt: skip
    second = {**first, "message": "Thank you! We have passed it on to the team."}
    for at, reply in (
        ("2024-07-01T00:00:00Z", None),
        ("2024-07-03T00:00:00Z", first),
        ("2024-07-04T00:00:00Z", first),
        ("2024-07-05T00:00:00Z", second),
    ):
        writer = ArchiveWriter(str(db), command="test")
        writer.write(capture(at, reply))
        writer.finish()
    conn = sqlite3.connect(db)
    history = conn.execute(
        "SELECT json_extract(value, '$.text'), observed_at FROM extra_history "
        "WHERE review_id = ? ORDER BY observed_at",
        (QUIET,),
    ).fetchall()
    assert history == [
        ("Thank you for your review!", "2024-07-03T00:00:00.000000Z"),
        ("Thank you! We have passed it on to the team.", "2024-07-05T00:00:00.000000Z"),
    ]
    current = conn.execute(
        "SELECT json_extract(extra, '$.reply.text'), version_count FROM reviews "
        "WHERE review_id = ?",
        (QUIET,),
    ).fetchone()
    assert current == ("Thank you! We have passed it on to the team.", 1)
    # Replies seen from the first capture are history from then on, too.
    replied = conn.execute(
        "SELECT count(DISTINCT review_id) FROM extra_history WHERE review_id != ?", (QUIET,)
    ).fetchone()[0]
    assert replied == 4
    conn.close()
