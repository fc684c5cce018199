"""Every site's parser against every saved page of its folder in ../shared/fixtures.

Sites come from discovery (`sites.all_sites()`), pages from `shared/fixtures/<site>/`: a page with
an `.expected.jsonl` beside it must give exactly those reviews, field by field, in page order; a
page without one must be refused with one `PageError` naming the page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewhoard.items import CONTRACT_FIELDS
from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import all_sites, parse_page
from tests.conftest import ROOT, fixtures_dir
from tests.expected import load_expected, mismatches

PAGE_SUFFIXES = (".html", ".json")


def _saved_pages() -> list[tuple[str, str]]:
    """(site key, page file name) for every saved page, at collection time."""
    folder = Path(os.environ.get("REVIEW_FIXTURES") or ROOT.parent / "shared" / "fixtures")
    out: list[tuple[str, str]] = []
    for site in all_sites().values():
        site_folder = folder / (site.fixtures_folder or site.key)
        out += [
            (site.key, p.name)
            for p in sorted(site_folder.glob("*"))
            if p.suffix in PAGE_SUFFIXES and site.url_of_saved_page(p.name)
        ]
    return out or [("(none)", "(no saved pages)")]


@pytest.mark.parametrize(("site_key", "name"), _saved_pages())
def test_saved_page_gives_expected_reviews(site_key: str, name: str) -> None:
    site = all_sites().get(site_key)
    assert site is not None, "no saved pages found"
    page = fixtures_dir() / (site.fixtures_folder or site.key) / name
    url = site.url_of_saved_page(name)
    assert url is not None
    expected = load_expected(page)
    if expected is None:
        with pytest.raises(PageError) as caught:
            parse_page(page.read_bytes(), url, site.key)
        assert caught.value.where == url
        assert caught.value.reason
        return
    parsed = parse_page(page.read_bytes(), url, site.key)
    got = [r.to_dict() for r in parsed.reviews]
    problems = mismatches(expected, got)
    assert not problems, f"{name}: {len(problems)} mismatches:\n" + "\n".join(problems)
    assert parsed.block_count == len(expected)
    for review in got:
        assert review["site"] == site.key
        assert list(review)[: len(CONTRACT_FIELDS)] == list(CONTRACT_FIELDS)
