"""Word diffs between two versions of a review's text, for the review page.

Paragraphs are matched first and words only inside the paragraphs that changed, so a long review
with one sentence edited costs little and reads as that sentence's change, not as a reshuffle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["same", "added", "removed"]

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
_WORD = re.compile(r"\w+")

CONTEXT_WORDS = 25
"""Unchanged words kept visible on each side of a change; the rest is folded."""


@dataclass(slots=True, frozen=True)
class Piece:
    """A run of text the diff shows one way: unchanged, added or removed."""

    op: Op
    text: str

    @property
    def words(self) -> int:
        """How many words it holds."""
        return len(_WORD.findall(self.text))


@dataclass(slots=True, frozen=True)
class Fold:
    """Unchanged text long enough to be folded: `head` and `tail` stay in view around it."""

    head: str
    middle: str
    tail: str

    @property
    def words(self) -> int:
        """How many words are folded away."""
        return len(_WORD.findall(self.middle))


@dataclass(slots=True, frozen=True)
class WordDiff:
    """What changed from one text to the next."""

    pieces: list[Piece]
    added: int
    """Words added."""
    removed: int
    """Words removed."""

    @property
    def changed(self) -> bool:
        """True when any word was added or removed."""
        return any(p.op != "same" for p in self.pieces)

    def folded(self, context: int = CONTEXT_WORDS) -> list[Piece | Fold]:
        """The pieces with each long unchanged stretch folded to `context` words either side
        of its neighbouring changes (none before the first change or after the last)."""
        out: list[Piece | Fold] = []
        last = len(self.pieces) - 1
        for i, piece in enumerate(self.pieces):
            if piece.op != "same":
                out.append(piece)
                continue
            keep_head = context if i > 0 else 0
            keep_tail = context if i < last else 0
            tokens = _TOKEN.findall(piece.text)
            word_at = [n for n, t in enumerate(tokens) if _WORD.fullmatch(t)]
            if len(word_at) <= keep_head + keep_tail + context:
                out.append(piece)
                continue
            head_end = word_at[keep_head] if keep_head else 0
            tail_start = word_at[-keep_tail] if keep_tail else len(tokens)
            # Fold at whitespace, so no word is cut in two.
            out.append(
                Fold(
                    "".join(tokens[:head_end]),
                    "".join(tokens[head_end:tail_start]),
                    "".join(tokens[tail_start:]),
                )
            )
        return out


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Adjacent unchanged pieces joined; each run of changes as one removal then one addition."""
    out: list[Piece] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        runs: tuple[tuple[Op, list[str]], ...] = (("removed", removed), ("added", added))
        for op, texts in runs:
            if "".join(texts):
                out.append(Piece(op, "".join(texts)))
            texts.clear()

    for piece in pieces:
        if piece.op == "same":
            flush()
            if not piece.text:
                continue
            if out and out[-1].op == "same":
                out[-1] = Piece("same", out[-1].text + piece.text)
            else:
                out.append(piece)
        else:
            (removed if piece.op == "removed" else added).append(piece.text)
    flush()
    return out


def _words(old: str, new: str) -> list[Piece]:
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    pieces: list[Piece] = []
    codes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(codes):
        between_changes = 0 < n < len(codes) - 1
        if tag == "equal" and between_changes and not "".join(a[i1:i2]).strip():
            # A lone space between two changes joins them: "-quick brown- +slow red+", not
            # four pieces.
            pieces.append(Piece("removed", "".join(a[i1:i2])))
            pieces.append(Piece("added", "".join(b[j1:j2])))
            continue
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
            continue
        # Removed before added, as people read a correction.
        pieces.append(Piece("removed", "".join(a[i1:i2])))
        pieces.append(Piece("added", "".join(b[j1:j2])))
    return pieces


def word_diff(old: str, new: str) -> WordDiff:
    """The word diff from `old` to `new`: pieces in reading order, and words added/removed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
        elif tag == "replace":
            pieces.extend(_words("".join(a[i1:i2]), "".join(b[j1:j2])))
        else:
            pieces.append(Piece("removed", "".join(a[i1:i2])))
            pieces.append(Piece("added", "".join(b[j1:j2])))
    merged = _merge(pieces)
    added = sum(p.words for p in merged if p.op == "added")
    removed = sum(p.words for p in merged if p.op == "removed")
    return WordDiff(merged, added, removed)
