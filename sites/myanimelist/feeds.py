"""MyAnimeList's feeds: where a crawl starts and how it pages. Parsing is `parser.py`.

A title's reviews tab (`anime`/`manga` ids), newest first with preliminary and spoiler reviews
shown (MyAnimeList hides those otherwise), every page while there is a "More Reviews" link; the
site-wide listing of new reviews (`recent` anime or manga); a profile's reviews (`user`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs, urlsplit

from reviewhoard.parsers.page import ParsedPage
from reviewhoard.sites.site import Feed

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


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """The feeds asked for by `anime`, `manga`, `recent` and `user`; ValueError names a bad one."""
    feeds: list[Feed] = []
    for subject_type in SUBJECT_TYPES:
        for subject_id in args.get(subject_type, ()):
            if not subject_id.isdigit():
                raise ValueError(f"{subject_type} ids are numbers (as in /{subject_type}/1/...), "
                                 f"not {subject_id!r}")  # fmt: skip
            feeds.append(
                Feed(
                    key=f"{subject_type}:{int(subject_id)}",
                    start_url=title_reviews_url(subject_type, int(subject_id)),
                    subject_type=subject_type,
                    subject_id=str(int(subject_id)),
                    walkable=True,
                )
            )
    for kind in args.get("recent", ()):
        if kind not in SUBJECT_TYPES:
            raise ValueError(f"recent is anime or manga, not {kind!r}")
        feeds.append(
            Feed(
                key=f"recent:{kind}",
                start_url=f"{CANONICAL}/reviews.php?t={kind}",
                expects_reviews=True,
            )
        )
    for name in args.get("user", ()):
        if not USER_NAME.match(name):
            raise ValueError(f"{name!r} is not a MyAnimeList user name (2-32 letters, digits, _ -)")
        feeds.append(Feed(key=f"user:{name}", start_url=f"{CANONICAL}/profile/{name}/reviews"))
    return feeds


def next_page(feed: Feed, parsed: ParsedPage, page: int) -> str | None:
    """A title's next page keeps our filters (the site's link carries the visitor's own)."""
    if parsed.next_url is None or feed.subject_type is None:
        return parsed.next_url
    number = parse_qs(urlsplit(parsed.next_url).query).get("p", [""])[0]
    if not number.isdigit():
        return parsed.next_url
    return title_reviews_url(feed.subject_type, feed.subject_id or "", int(number))
