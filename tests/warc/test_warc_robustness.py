"""Whatever bytes a WARC file holds, reading it yields captures and damage lines, or says it is
not a WARC: never another exception (Hypothesis cuts, flips and deletes bytes of real files)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewhoard.hoard.warc_input import Damage, NotWarc, WarcImport
from reviewhoard.items import Capture
from tests.warc.helpers import WarcBuilder

EXCERPT_URL = "https://myanimelist.net/manga/121496/Solo_Leveling/reviews"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, mal_fixtures: Path) -> dict[str, bytes]:
    """A small WARC, gzip per record and uncompressed: a request, two responses (one gzipped
    and chunked), a revisit, a metadata record."""
    out = {}
    body = (mal_fixtures / "manga-121496-reviews-excerpt-2026-07.html").read_bytes()
    for name, zipped in (("small.warc.gz", True), ("small.warc", False)):
        path = tmp_path_factory.mktemp("fuzz") / name
        warc = WarcBuilder(path, gzip=zipped)
        warc.request(EXCERPT_URL, "2026-07-12T00:00:00Z")
        first = warc.response(EXCERPT_URL, body, "2026-07-12T00:00:00Z")
        warc.response(
            EXCERPT_URL + "?p=2", body, "2026-07-12T00:00:01Z", encoding="gzip", chunk=True
        )
        warc.revisit(first, EXCERPT_URL, "2026-08-01T00:00:00Z")
        warc.metadata("metadata://x", b"a: b\r\n")
        out[name] = warc.close().read_bytes()
    return out


def read_all(path: Path) -> tuple[int, int]:
    """(captures, damages) of a file; NotWarc counts as (0, 0)."""
    importer = WarcImport()
    captures = damages = 0
    try:
        for item in importer.captures(str(path)):
            assert isinstance(item, Capture | Damage)
            if isinstance(item, Capture):
                assert item.site == "myanimelist" and item.url.startswith(EXCERPT_URL)
                captures += 1
            else:
                assert item.reason and item.offset >= 0
                damages += 1
    except NotWarc as exc:
        assert str(exc).startswith(("empty file", "not a WARC file"))
    return captures, damages


def test_the_samples_read_whole(samples: dict[str, bytes], tmp_path: Path):
    for name, data in samples.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert read_all(path) == (3, 0), name


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from(["small.warc.gz", "small.warc"]),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["cut", "flip", "delete", "insert"]),
            st.floats(0, 1),
            st.integers(1, 400),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_damaged_files_never_raise(samples, tmp_path_factory, which, edits):
    data = bytearray(samples[which])
    for kind, where, size in edits:
        at = int(where * max(len(data) - 1, 0))
        if kind == "cut":
            del data[at:]
        elif kind == "flip" and data:
            data[at] ^= 0xFF
        elif kind == "delete":
            del data[at : at + size]
        else:
            data[at:at] = bytes(range(size % 256)) or b"\x00"
    path = tmp_path_factory.mktemp("mutant") / which
    path.write_bytes(bytes(data))
    captures, _ = read_all(path)
    assert captures <= 3


def test_a_whole_file_gzip_of_a_damaged_warc(samples, tmp_path: Path):
    plain = bytearray(samples["small.warc"])
    at = plain.index(b"review-element") + 100  # inside the first response's payload
    plain[at] ^= 0xFF
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(bytes(plain)))
    importer = WarcImport()
    got = list(importer.captures(str(path)))
    assert [type(g).__name__ for g in got] == ["Damage", "Capture"]
    assert isinstance(got[0], Damage) and got[0].reason == "bad block and payload digests"
    assert isinstance(got[1], Capture) and got[1].url == EXCERPT_URL + "?p=2"
    # The revisit's original was the damaged record: nothing to see again.
    assert dict(importer.tally.skipped) == {"request": 1, "other": 1, "revisit_unknown": 1}
