"""MyAnimeList: where to go and when to stop. Parsing is `parsers.myanimelist`.

    scrapy crawl mal -a anime=1,5114 -a manga=1 -a recent=anime -a user=NAME -a mode=update
    hoard crawl mal --anime 1,5114 --manga 1 --recent anime --user NAME --mode update

Feeds: a title's reviews tab (`anime=`/`manga=`, ids separated by commas), newest first with
preliminary and spoiler reviews shown, every page while there is a "More Reviews" link; the
site-wide listing (`recent=anime`, `recent=manga` or both); a profile's reviews (`user=`).
`MAL_BASE_URL` sends every request to a replay site or a mirror instead of myanimelist.net.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from parsers import ParsedPage
from spiders.base import Feed, ReviewSpider

CANONICAL = "https://myanimelist.net"
SUBJECT_TYPES = ("anime", "manga")
USER_NAME = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


def title_reviews_url(subject_type: str, subject_id: int | str, page: int = 1) -> str:
    """A title's reviews tab: newest first, preliminary and spoiler reviews shown, page `page`.

    MyAnimeList ignores the slug after the id, so `_` stands for the title's name.
    """
    return (
        f"{CANONICAL}/{subject_type}/{subject_id}/_/reviews"
        f"?sort=newest&preliminary=on&spoiler=on&p={page}"
    )


def split_list(value: Any) -> list[str]:
    """`"1,5114"` (or a list of such strings) -> `["1", "5114"]`, blanks dropped."""
    items = value if isinstance(value, list | tuple) else [value]
    return [p.strip() for item in items if item for p in str(item).split(",") if p.strip()]


def mal_feeds(args: dict[str, Any]) -> list[Feed]:
    """The feeds asked for by `anime`, `manga`, `recent` and `user`; ValueError names a bad one."""
    feeds: list[Feed] = []
    for subject_type in SUBJECT_TYPES:
        for subject_id in split_list(args.get(subject_type)):
            if not subject_id.isdigit():
                raise ValueError(f"{subject_type} ids are numbers (as in /{subject_type}/1/...), "
                                 f"not {subject_id!r}")  # fmt: skip
            feeds.append(
                Feed(
                    key=f"{subject_type}:{int(subject_id)}",
                    start_url=title_reviews_url(subject_type, int(subject_id)),
                    subject_type=subject_type,
                    subject_id=str(int(subject_id)),
                )
            )
    for kind in split_list(args.get("recent")):
        if kind not in SUBJECT_TYPES:
            raise ValueError(f"recent is anime or manga, not {kind!r}")
        feeds.append(
            Feed(
                key=f"recent:{kind}",
                start_url=f"{CANONICAL}/reviews.php?t={kind}",
                expects_reviews=True,
            )
        )
    for name in split_list(args.get("user")):
        if not USER_NAME.match(name):
            raise ValueError(f"{name!r} is not a MyAnimeList user name (2-32 letters, digits, _ -)")
        feeds.append(Feed(key=f"user:{name}", start_url=f"{CANONICAL}/profile/{name}/reviews"))
    return feeds


class MalSpider(ReviewSpider):
    """MyAnimeList reviews: titles' reviews tabs, the site-wide listing, profiles."""

    name = "mal"
    site = "myanimelist"
    canonical_base = CANONICAL
    base_url_setting = "MAL_BASE_URL"
    min_delay = 2.0

    def make_feeds(self, args: dict[str, Any]) -> list[Feed]:
        return mal_feeds(args)

    def usage_hint(self) -> str:
        return "pass -a anime=ID[,ID...], -a manga=ID, -a recent=anime|manga or -a user=NAME"

    def next_page_url(self, feed: Feed, parsed: ParsedPage) -> str | None:
        """A title's next page keeps our filters (the site's link carries the visitor's own)."""
        if parsed.next_url is None or feed.subject_type is None:
            return parsed.next_url
        page = parse_qs(urlsplit(parsed.next_url).query).get("p", [""])[0]
        if not page.isdigit():
            return parsed.next_url
        return title_reviews_url(feed.subject_type, feed.subject_id or "", int(page))
