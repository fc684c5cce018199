"""The address a saved page names for itself (`parsers.page_address`), on made-up heads and on
the real saved pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewhoard.parsers.page_address import named_addresses, page_address

MAL = "https://myanimelist.net"


def test_saved_from_comment_comes_before_the_canonical_link() -> None:
    body = (
        b"<!DOCTYPE html>\n"
        b"<!-- saved from url=(0050)https://myanimelist.net/anime/1/x/reviews?p=2 -->"
        b'<html><head><link rel="canonical" href="https://myanimelist.net/anime/1/x/reviews"/>'
        b'<meta property="og:url" content="https://myanimelist.net/anime/1/og"></head>'
    )
    assert named_addresses(body) == [
        f"{MAL}/anime/1/x/reviews?p=2",
        f"{MAL}/anime/1/x/reviews",
        f"{MAL}/anime/1/og",
    ]
    assert page_address(body) == f"{MAL}/anime/1/x/reviews?p=2"


def test_attributes_in_any_order_and_entities_decoded() -> None:
    body = (
        b"<head><meta content='https://letterboxd.com/film/x/reviews/?a=1&amp;b=2' "
        b'property=\'og:url\'><link href="https://example.com/c" rel="alternate canonical">'
    )
    assert named_addresses(body) == [
        "https://example.com/c",
        "https://letterboxd.com/film/x/reviews/?a=1&b=2",
    ]


def test_singlefile_comment() -> None:
    body = (
        b"<!DOCTYPE html> <html><!--\n Page saved with SingleFile \n url: "
        b"https://www.trustpilot.com/review/example.org \n saved date: Mon Jul 01 2024\n-->"
        b"<head></head>"
    )
    assert page_address(body) == "https://www.trustpilot.com/review/example.org"


def test_known_site_wins_over_a_proxy_address() -> None:
    body = (
        b"<!-- saved from url=(0040)https://web.archive.org/web/2020/xyz -->"
        b'<head><link rel="canonical" href="https://myanimelist.net/anime/1/x/reviews"></head>'
    )
    assert page_address(body) == "https://web.archive.org/web/2020/xyz"
    known = page_address(body, known=lambda url: url.startswith(MAL))
    assert known == f"{MAL}/anime/1/x/reviews"


def test_relative_addresses_tags_after_head_and_nothing_named() -> None:
    assert page_address(b'<head><link rel="canonical" href="/anime/1"></head>') is None
    after_head = b'<head></head><body><link rel="canonical" href="https://a.example/x"></body>'
    assert page_address(after_head) is None
    assert page_address(b'{"reviews": {}}') is None
    assert page_address(b"") is None


def test_a_site_reader_adds_its_own_data() -> None:
    body = b'{"permalink": "https://store.steampowered.com/appreviews/620?json=1"}'

    def steam_json(data: bytes) -> str | None:
        return "https://store.steampowered.com/appreviews/620?json=1" if b"620" in data else None

    assert page_address(body, extra=[steam_json]) == (
        "https://store.steampowered.com/appreviews/620?json=1"
    )


@pytest.mark.parametrize(
    ("folder", "name", "address"),
    [
        ("myanimelist", "anime-1-reviews-2022-10.html", f"{MAL}/anime/1/Cowboy_Bebop/reviews"),
        (
            "myanimelist",
            "anime-44511-reviews-2021-old-empty.html",
            f"{MAL}/anime/44511/Chainsaw_Man/reviews",
        ),
        (
            "myanimelist",
            "manga-1-reviews-2026-01.html",
            f"{MAL}/manga/1/Monster/reviews?spoiler=on&preliminary=on",
        ),
        (
            "letterboxd",
            "film-oppenheimer-2023-reviews-2026-07.html",
            "https://letterboxd.com/film/oppenheimer-2023/reviews/",
        ),
        (
            "goodreads",
            "book-14476341-reviews-2025-04.html",
            "https://www.goodreads.com/book/show/14476341-the-great-gatsby/reviews",
        ),
        (
            "trustpilot",
            "review-eventnet.de-2024-07.html",
            "https://www.trustpilot.com/review/eventnet.de",
        ),
        ("myanimelist", "manga-121496-reviews-excerpt-2026-07.html", None),
        ("steam", "app-620-reviews-aggregate-2019.json", None),
    ],
)
def test_real_saved_pages(fixtures: Path, folder: str, name: str, address: str | None) -> None:
    assert page_address((fixtures / folder / name).read_bytes()) == address
