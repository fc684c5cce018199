"""The MyAnimeList parser: page kinds, next pages and the rules its saved pages show.

Every saved page against its `.expected.jsonl` is `tests/sites/test_saved_pages.py`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewhoard.parsers.errors import PageError
from reviewhoard.sites.myanimelist import SITE
from reviewhoard.sites.myanimelist import parser as myanimelist


def url_for(name: str) -> str:
    """The URL a saved page came from, as the site folder declares it."""
    url = SITE.url_of_saved_page(name)
    assert url is not None
    return url


NEXT_PAGES = {
    "anime-1-reviews-2022-10.html": (
        "reviews_tab",
        "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews?sort=mostvoted&filter_check="
        "&filter_hide=&preliminary=on&spoiler=off&p=2",
    ),
    "anime-1-reviews-2018-12-old.html": (
        "reviews_tab",
        "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews?p=2",
    ),
    "anime-32995-reviews-2017-old.html": (
        "reviews_tab",
        "https://myanimelist.net/anime/32995/Yuri_on_Ice/reviews?p=2",
    ),
    "anime-44511-reviews-2021-old-empty.html": ("reviews_tab", None),
    "anime-11757-main-2023-02.html": ("title_main", None),
    "anime-11757-main-2016-12-old.html": ("title_main", None),
}


@pytest.mark.parametrize("page", sorted(NEXT_PAGES))
def test_kind_and_next_page(mal_fixtures: Path, page: str) -> None:
    kind, next_url = NEXT_PAGES[page]
    parsed = myanimelist.parse((mal_fixtures / page).read_bytes(), url_for(page))
    assert parsed.kind == kind
    assert parsed.next_url == next_url


def test_relative_next_link_keeps_the_callers_base(mal_fixtures: Path) -> None:
    """A replay site serves the same page under its own address: paging must stay there."""
    body = (mal_fixtures / "anime-32995-reviews-2017-old.html").read_bytes()
    parsed = myanimelist.parse(body, "http://127.0.0.1:8123/anime/32995/Yuri_on_Ice/reviews")
    assert parsed.next_url == "http://127.0.0.1:8123/anime/32995/Yuri_on_Ice/reviews?p=2"


@pytest.mark.parametrize(
    ("page", "published_at", "title", "author_url"),
    [
        # the current layout gives the time (div.update_at's title); no time zone is invented
        (
            "anime-1-reviews-2022-10.html",
            "2008-08-24T05:46:00",
            "Cowboy Bebop",
            "https://myanimelist.net/profile/TheLlama",
        ),
        # the 2016 layout shows only the date, and relative profile links
        (
            "anime-11757-main-2016-12-old.html",
            "2014-04-06",
            "Sword Art Online",
            "https://myanimelist.net/profile/LordAura",
        ),
    ],
)
def test_unpinned_fields_and_time_are_filled(
    mal_fixtures: Path, page: str, published_at: str, title: str, author_url: str
) -> None:
    first = myanimelist.parse((mal_fixtures / page).read_bytes(), url_for(page)).reviews[0]
    assert first.published_at == published_at
    assert first.subject.title == title
    assert first.subject.url == "https://myanimelist.net/anime/" + first.subject.id
    assert first.author.url == author_url


EDITED_BETWEEN_CAPTURES = {"293082", "144725"}
"""Reviews whose authors really edited the text between the 2018 and 2022 captures (README)."""


def test_same_review_in_old_and_new_layout_has_the_same_text(mal_fixtures: Path) -> None:
    """Cowboy Bebop's tab in 2018 (old layout) and 2022 (new): the clean-text rules give the
    same text for the same review, except where its author really edited it."""
    url = url_for("anime-1-reviews-2022-10.html")
    old = myanimelist.parse((mal_fixtures / "anime-1-reviews-2018-12-old.html").read_bytes(), url)
    new = myanimelist.parse((mal_fixtures / "anime-1-reviews-2022-10.html").read_bytes(), url)
    old_texts = {r.review_id: r.text for r in old.reviews}
    new_texts = {r.review_id: r.text for r in new.reviews}
    both = sorted(set(old_texts) & set(new_texts))
    assert len(both) == 16
    differ = {rid for rid in both if old_texts[rid] != new_texts[rid]}
    assert differ == EDITED_BETWEEN_CAPTURES
    assert all(len(old_texts[rid]) > 500 for rid in both)


# Listing, single-review and profile pages were not captured; their blocks are the same
# `div.review-element` (the fixture README), on a listing each also naming its title in
# `div.titleblock a`. These pages are built from real blocks of the 2022 tab.
TITLEBLOCK = (
    '<div class="titleblock mb4"><a href="https://myanimelist.net/anime/5114/'
    'Fullmetal_Alchemist__Brotherhood" class="title ga-click">Fullmetal Alchemist: '
    "Brotherhood</a></div>"
)


def page_from_real_blocks(mal_fixtures: Path, with_titleblock: bool) -> bytes:
    """The 2022 tab's first two blocks (and its More Reviews link) in a small page."""
    body = (mal_fixtures / "anime-1-reviews-2022-10.html").read_text("utf-8")
    starts = [m.start() for m in re.finditer('<div class="review-element', body)]
    blocks = body[starts[0] : starts[2]]
    if with_titleblock:
        blocks = blocks.replace('<div class="body">', '<div class="body">' + TITLEBLOCK)
    more = '<div class="ml4 mb8"><a href="/reviews.php?t=anime&amp;p=2">More Reviews</a></div>'
    page = (
        "<!DOCTYPE html><html><head><title>Reviews - MyAnimeList.net</title></head><body>"
        f"<h1>Reviews</h1>{blocks}{more}</body></html>"
    )
    return page.encode("utf-8")


@pytest.mark.parametrize(
    ("url", "kind", "next_url"),
    [
        (
            "https://myanimelist.net/reviews.php?t=anime",
            "listing",
            "https://myanimelist.net/reviews.php?t=anime&p=2",
        ),
        ("https://myanimelist.net/reviews.php?id=7406", "review", None),
        (
            "https://myanimelist.net/profile/TheLlama/reviews",
            "profile",
            "https://myanimelist.net/reviews.php?t=anime&p=2",
        ),
    ],
)
def test_pages_naming_their_titles_in_each_block(
    mal_fixtures: Path, url: str, kind: str, next_url: str | None
) -> None:
    parsed = myanimelist.parse(page_from_real_blocks(mal_fixtures, with_titleblock=True), url)
    assert (parsed.kind, parsed.next_url, parsed.block_count) == (kind, next_url, 2)
    first, second = parsed.reviews
    assert first.subject.type == "anime"
    assert first.subject.id == "5114"
    assert first.subject.title == "Fullmetal Alchemist: Brotherhood"
    assert first.subject.url == "https://myanimelist.net/anime/5114"
    assert (first.review_id, first.author.name, first.rating) == ("7406", "TheLlama", 10)
    assert first.text.startswith("People who know me know that I'm not a fan of episodic")
    assert second.review_id != first.review_id


def test_listing_block_without_its_title_fails_the_page(mal_fixtures: Path) -> None:
    body = page_from_real_blocks(mal_fixtures, with_titleblock=False)
    with pytest.raises(PageError) as caught:
        myanimelist.parse(body, "https://myanimelist.net/reviews.php?t=anime")
    assert caught.value.reason == (
        "current layout: review 7406 has no reviewed title (no div.titleblock link and no title "
        "in the page URL); nothing from it was kept"
    )


def test_old_manga_progress_reads_chapters_read(mal_fixtures: Path) -> None:
    """Old-layout manga pages (2018-2021) say "N of M chapters read", not "... seen"."""
    body = (mal_fixtures / "anime-1-reviews-2018-12-old.html").read_bytes()
    manga = body.replace(b"episodes seen", b"chapters read")
    assert manga != body
    url = "https://myanimelist.net/manga/1/Monster/reviews"
    as_anime = myanimelist.parse(body, url).reviews
    as_manga = myanimelist.parse(manga, url).reviews
    assert len(as_manga) == len(as_anime) == 20
    for before, after in zip(as_anime, as_manga, strict=True):
        assert before.progress is not None and after.progress is not None
        assert (after.progress.seen, after.progress.total) == (
            before.progress.seen,
            before.progress.total,
        )
        assert (before.progress.unit, after.progress.unit) == ("episodes", "chapters")
        assert "chapters read" not in after.text
