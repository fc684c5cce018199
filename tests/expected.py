"""Comparing parsed reviews with a saved page's `.expected.jsonl`, field by field.

The contract's "Expected files" rules: every contract field is compared except `subject.title`,
`subject.url` and `author.url` (not pinned); `published_at` by its first 10 characters; extra
fields a parser adds are not compared. A failure lists every mismatch as
`review <id>: <field>: expected X, got Y`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reviewhoard.items import CONTRACT_FIELDS

UNPINNED = {"subject": ("title", "url"), "author": ("url",)}
"""Nested keys the expected files leave out (they are filled when the page has them)."""


def expected_file(page: Path) -> Path:
    """`x.html` / `x.json` -> `x.expected.jsonl` beside it."""
    return page.with_name(page.name.rsplit(".", 1)[0] + ".expected.jsonl")


def load_expected(page: Path) -> list[dict[str, Any]] | None:
    """The reviews a saved page must yield, or None when it has no expected file (a page that
    must be refused)."""
    path = expected_file(page)
    if not path.exists():
        return None
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _same(exp: Any, act: Any) -> bool:
    """Equal, with numbers compared as numbers (4 == 4.0) but never a bool as a number."""
    if isinstance(exp, bool) or isinstance(act, bool):
        return type(exp) is type(act) and exp == act
    return bool(exp == act)


def mismatches(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    """Every difference, as `review <id>: <field>: expected X, got Y` (in page order)."""
    problems: list[str] = []
    if len(expected) != len(got):
        problems.append(f"page: review count: expected {len(expected)}, got {len(got)}")
    got_by_id = {g["review_id"]: g for g in got}
    for position, want in enumerate(expected):
        rid = want["review_id"]
        have = got_by_id.get(rid)
        if have is None:
            problems.append(f"review {rid}: missing from the parsed page")
            continue
        if position < len(got) and got[position]["review_id"] != rid:
            problems.append(f"review {rid}: position: expected {position}, got another order")
        for field in CONTRACT_FIELDS:
            if field not in have:
                problems.append(f"review {rid}: {field}: missing from the parsed review")
                continue
            if field not in want:
                continue
            exp, act = want[field], have[field]
            if field == "published_at":
                exp, act = (exp or "")[:10], (act or "")[:10]
            elif field in UNPINNED and isinstance(act, dict) and isinstance(exp, dict):
                act = {k: v for k, v in act.items() if k not in UNPINNED[field]}
                exp = {k: v for k, v in exp.items() if k not in UNPINNED[field]}
            if not _same(exp, act):
                problems.append(f"review {rid}: {field}: expected {exp!r}, got {act!r}")
    return problems
