"""MyAnimeList (`myanimelist`, alias `mal`): anime and manga reviews.

    hoard crawl mal --anime 1,5114 --manga 1 --recent anime --user NAME

`MAL_BASE_URL` (or `--base-url`) sends every request to a replay site or a mirror.
"""

from __future__ import annotations

from typing import Any

from reviewhoard.items import Review
from reviewhoard.sites.myanimelist import parser
from reviewhoard.sites.myanimelist.feeds import CANONICAL, make_feeds, next_page
from reviewhoard.sites.site import CrawlPolicy, FeedOption, Site

SAVED_PAGES = {
    "anime-1-reviews-2022-10.html": "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews",
    "manga-1-reviews-2026-01.html": "https://myanimelist.net/manga/1/Monster/reviews",
    "manga-121496-reviews-excerpt-2026-07.html": (
        "https://myanimelist.net/manga/121496/Solo_Leveling/reviews"
    ),
    "anime-11757-main-2023-02.html": "https://myanimelist.net/anime/11757/Sword_Art_Online",
    "manga-1706-main-2024-05.html": (
        "https://myanimelist.net/manga/1706/JoJo_no_Kimyou_na_Bouken_Part_7__Steel_Ball_Run"
    ),
    "anime-1-reviews-2018-12-old.html": "https://myanimelist.net/anime/1/Cowboy_Bebop/reviews",
    "anime-32995-reviews-2017-old.html": "https://myanimelist.net/anime/32995/Yuri_on_Ice/reviews",
    "anime-11757-main-2016-12-old.html": "https://myanimelist.net/anime/11757/Sword_Art_Online",
    "anime-44511-reviews-2021-old-empty.html": (
        "https://myanimelist.net/anime/44511/Chainsaw_Man/reviews"
    ),
    "mobile-anime-1535-main-2024-05.html": "https://myanimelist.net/anime/1535/Death_Note",
}
"""Where each saved page came from (the fixture README's table)."""


# The saved MyAnimeList pages of ../shared/fixtures/myanimelist at the paths they came from
# (see that folder's README). Only first pages were saved, so their "More Reviews" links go.
REPLAY_ROUTES: list[dict[str, Any]] = [
    {"path": "/anime/1/*/reviews", "file": "anime-1-reviews-2022-10.html", "query": {"p": "1"},
     "last_page": True},
    {"path": "/manga/1/*/reviews", "file": "manga-1-reviews-2026-01.html", "query": {"p": "1"},
     "last_page": True},
    {"path": "/anime/32995/*/reviews", "file": "anime-32995-reviews-2017-old.html",
     "query": {"p": "1"}, "last_page": True},
    {"path": "/anime/44511/*/reviews", "file": "anime-44511-reviews-2021-old-empty.html"},
    {"path": "/manga/121496/*/reviews", "file": "manga-121496-reviews-excerpt-2026-07.html"},
    {"path": "/anime/11757/*", "file": "anime-11757-main-2023-02.html"},
    {"path": "/manga/1706/*", "file": "manga-1706-main-2024-05.html"},
    {"path": "/anime/1535/*", "file": "mobile-anime-1535-main-2024-05.html"},
    {"path": "/anime/1535/*/reviews", "file": "mobile-anime-1535-main-2024-05.html"},
]  # fmt: skip


def saved_page_url(name: str) -> str | None:
    """`anime-1-reviews-...` is a reviews tab, `anime-1-main-...` a title's main page."""
    parts = name.split("-")
    if len(parts) < 3 or parts[0] not in ("anime", "manga") or not parts[1].isdigit():
        return None
    tail = "" if parts[2] == "main" else "/reviews"
    return f"{CANONICAL}/{parts[0]}/{parts[1]}/x{tail}"


def check_review(review: Review) -> list[str]:
    """MyAnimeList shows all seven reactions on every review of the new layout."""
    if review.reactions is not None and set(review.reactions) != set(parser.REACTION_KEYS):
        return [f"reactions keys {sorted(review.reactions)} are not MyAnimeList's seven"]
    return []


SITE = Site(
    key="myanimelist",
    name="MyAnimeList",
    aliases=("mal",),
    base_url=CANONICAL,
    domains=("myanimelist.net",),
    parser=parser,
    subject_types=("anime", "manga"),
    options=(
        FeedOption("anime", "Anime ids whose reviews tabs to walk (comma-separated)."),
        FeedOption("manga", "Manga ids whose reviews tabs to walk (comma-separated)."),
        FeedOption(
            "recent", "The site-wide list of new reviews.", "KIND", choices=("anime", "manga")
        ),
        FeedOption("user", "A profile's reviews.", "NAME"),
    ),
    make_feeds=make_feeds,
    next_page=next_page,
    check_review=check_review,
    policy=CrawlPolicy(min_delay=2.0),
    saved_pages=SAVED_PAGES,
    saved_page_url=saved_page_url,
    replay_routes=REPLAY_ROUTES,
    bench_min_rate=1500,
    watch_examples=("anime = [1, 5114]\nmanga = [1]\n", 'recent = "anime"\n'),
    crawl_examples=("--anime 1,5114 --manga 1", "--recent anime --user NAME"),
)
