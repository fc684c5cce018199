"""Real pages with a few random edits, for every site's Hypothesis test: the parser must give
correct reviews or raise only its `PageError`, whatever the bytes."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

HTML_JUNK: tuple[bytes, ...] = (b"<div>", b"</div>", b"<br>", b"&amp;", b"<span", b'"')
"""Markup that lands inside a page's structure (unbalances tags, starts entities or strings)."""
JSON_JUNK: tuple[bytes, ...] = (b'"', b",", b"}", b"{", b"]", b"null", b"\\", b"</script>")
"""Tokens that break JSON held in a page or an API answer."""


@st.composite
def mutated(
    draw: st.DrawFn,
    body: bytes,
    junk: Sequence[bytes] = HTML_JUNK,
    *,
    edits: int = 4,
    size: int = 400,
    focus: tuple[int, int] | None = None,
) -> bytes:
    """`body` with 1 to `edits` random edits: cut short, a run deleted or doubled, random bytes
    or a `junk` token inserted, a byte flipped. With `focus` (start, end), half the edits land
    there (where the parser reads: a page's JSON)."""
    for _ in range(draw(st.integers(1, edits))):
        if not body:
            break
        low, high = 0, len(body)
        if focus is not None and draw(st.booleans()):
            low, high = min(focus[0], len(body) - 1), min(focus[1], len(body))
        where = draw(st.integers(low, max(low, high - 1)))
        run = draw(st.integers(1, size))
        action = draw(st.sampled_from(["cut", "delete", "duplicate", "insert", "junk", "flip"]))
        if action == "cut":
            body = body[:where]
        elif action == "delete":
            body = body[:where] + body[where + run :]
        elif action == "duplicate":
            body = body[:where] + body[where : where + run] * 2 + body[where + run :]
        elif action == "insert":
            body = body[:where] + draw(st.binary(min_size=1, max_size=40)) + body[where:]
        elif action == "junk":
            body = body[:where] + draw(st.sampled_from(list(junk))) + body[where:]
        else:
            body = (
                body[:where] + bytes([body[where] ^ draw(st.integers(1, 255))]) + body[where + 1 :]
            )
    return body
