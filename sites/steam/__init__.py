"""Steam (`steam`): a game's user reviews, from Steam's JSON reviews API.

    hoard crawl steam --app 620,439700
    hoard import app-620.json --url https://store.steampowered.com/appreviews/620?json=1

Crawls use `IUserReviewsService/GetAppReviews` on api.steampowered.com; the store's retired
`appreviews` endpoint and merges of its pages written by other tools are still read (`hoard
extract`, `hoard import`), and the retired community HTML is refused clearly.
"""

from __future__ import annotations

from reviewhoard.items import Review
from reviewhoard.sites.site import CrawlPolicy, FeedOption, Site
from reviewhoard.sites.steam import parser
from reviewhoard.sites.steam.feeds import API_URL, make_feeds

SAVED_PAGES = {
    "app-620-reviews-aggregate-2019.json": "https://store.steampowered.com/appreviews/620?json=1",
    "app-439700-reviews-aggregate-2019.json": (
        "https://store.steampowered.com/appreviews/439700?json=1"
    ),
    "appreviews-1245620-summary-2026-09.json": (
        "https://store.steampowered.com/appreviews/1245620?json=1&num_per_page=0"
    ),
    "appreviews-2130-summary-2026-09.json": (
        "https://store.steampowered.com/appreviews/2130?json=1&num_per_page=0"
    ),
    "appreviews-233150-summary-2026-09.json": (
        "https://store.steampowered.com/appreviews/233150?json=1&num_per_page=0"
    ),
    "appreviews-999999999-summary-2026-09.json": (
        "https://store.steampowered.com/appreviews/999999999?json=1&num_per_page=0"
    ),
    "community-app-331290-reviews-2016-11.html": (
        "https://steamcommunity.com/app/331290/homecontent/?browsefilter=toprated"
    ),
    "community-app-498680-reviews-2018-11.html": (
        "https://steamcommunity.com/app/498680/homecontent/?browsefilter=toprated"
    ),
}
"""Where each saved page came from (the fixture README's table)."""


def check_review(review: Review) -> list[str]:
    """Every Steam review has both vote counts, and its helpful count is its helpful votes."""
    problems: list[str] = []
    if review.reactions is None or set(review.reactions) != set(parser.REACTION_KEYS):
        problems.append(f"reactions {review.reactions!r} are not Steam's helpful and funny votes")
    elif review.helpful_count != review.reactions["helpful"]:
        problems.append("helpful_count differs from the helpful votes")
    return problems


SITE = Site(
    key="steam",
    name="Steam",
    # The origin the crawl requests (what `--base-url` replays stand in for); reviews and games
    # link to steamcommunity.com and store.steampowered.com.
    base_url=API_URL,
    domains=("store.steampowered.com", "api.steampowered.com", "steamcommunity.com"),
    parser=parser,
    subject_types=("game",),
    options=(
        FeedOption("app", "Steam app ids whose reviews to walk (comma-separated).", "APP_IDS"),
    ),
    make_feeds=make_feeds,
    check_review=check_review,
    # Steam asks for well under one request a second; 429 means it is throttling.
    policy=CrawlPolicy(min_delay=1.5),
    saved_pages=SAVED_PAGES,
    bench_max_ratio=3.0,
    bench_min_rate=20000,
    bench_baseline="json",
    watch_examples=("app = [620]\n",),
    crawl_notes=(
        "The reviews API (IUserReviewsService/GetAppReviews), 100 a page by cursor, newest first,"
        " all languages and purchase types; at least 1.5 s between requests."
    ),
    crawl_examples=("--app 620", "--app 620,440"),
)
