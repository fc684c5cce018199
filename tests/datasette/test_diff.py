"""The review page's word diffs: what was added and removed, long unchanged stretches folded."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewhoard.archive.datasette.diff import Fold, Piece, word_diff


def test_an_edited_sentence_is_one_removal_and_one_addition():
    old = "The quick brown fox jumps.\n\nThe second paragraph stays.\n"
    new = "The slow red fox jumps high.\n\nThe second paragraph stays.\n"
    diff = word_diff(old, new)
    assert diff.pieces == [
        Piece("same", "The "),
        Piece("removed", "quick brown"),
        Piece("added", "slow red"),
        Piece("same", " fox jumps"),
        Piece("added", " high"),
        Piece("same", ".\n\nThe second paragraph stays.\n"),
    ]
    assert (diff.added, diff.removed, diff.changed) == (3, 2, True)


def test_paragraphs_added_and_removed_whole():
    diff = word_diff("One.\nTwo.\n", "One.\nThree four.\nTwo.\n")
    assert diff.pieces == [
        Piece("same", "One.\n"),
        Piece("added", "Three four.\n"),
        Piece("same", "Two.\n"),
    ]
    assert (diff.added, diff.removed) == (2, 0)
    gone = word_diff("Keep.\nDrop this.\n", "Keep.\n")
    assert gone.pieces == [Piece("same", "Keep.\n"), Piece("removed", "Drop this.\n")]
    assert (gone.added, gone.removed) == (0, 2)


def test_the_same_text_has_no_change():
    diff = word_diff("Same words here.", "Same words here.")
    assert diff.pieces == [Piece("same", "Same words here.")]
    assert (diff.added, diff.removed, diff.changed) == (0, 0, False)


def test_long_unchanged_text_is_folded_around_the_change():
    words = [f"w{n}" for n in range(200)]
    old = " ".join(words)
    new = " ".join([*words[:100], "NEW", *words[100:]])
    folded = word_diff(old, new).folded(context=5)
    assert [type(p).__name__ for p in folded] == ["Fold", "Piece", "Fold"]
    before, change, after = folded
    assert isinstance(before, Fold) and isinstance(after, Fold)
    assert before.head == ""  # nothing to keep before the first change's context
    assert before.tail == "w95 w96 w97 w98 w99 "
    assert before.words == 95
    assert change == Piece("added", "NEW ")
    assert after.head == "w100 w101 w102 w103 w104 "
    assert after.tail == ""
    assert after.words == 95
    # Folding loses nothing: the pieces put together are the new text.
    rebuilt = "".join(
        p.head + p.middle + p.tail if isinstance(p, Fold) else p.text
        for p in folded
        if isinstance(p, Fold) or p.op != "removed"
    )
    assert rebuilt == new


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "bb", "c d", "\n", " ", "é", ".", "x\n\ny"]), max_size=40),
    st.lists(st.sampled_from(["a", "bb", "c d", "\n", " ", "é", ".", "z"]), max_size=40),
)
def test_the_pieces_rebuild_both_texts(old_parts: list[str], new_parts: list[str]):
    old, new = "".join(old_parts), "".join(new_parts)
    diff = word_diff(old, new)
    assert "".join(p.text for p in diff.pieces if p.op != "added") == old
    assert "".join(p.text for p in diff.pieces if p.op != "removed") == new
    assert all(p.text for p in diff.pieces)
    assert all(a.op != b.op for a, b in zip(diff.pieces, diff.pieces[1:], strict=False))
