"""schema.org pages to crawl: the URLs the user gives, one feed each, one page each.

A page of any site is read for the reviews it shows; nothing says which other pages hold more
of the same subject's reviews, so there is no paging and no feed is walkable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from reviewhoard.sites.site import Feed


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host, stripped; ValueError names anything else."""
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError(f"url takes absolute http:// or https:// addresses, not {value!r}")
    if any(c.isspace() for c in url):
        raise ValueError(f"a URL has no spaces in it: {value!r}")
    return url


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """One feed per `url` value (`url:URL`), starting and ending at that page; each URL once.

    Values come comma-separated from the command line, so a URL holding a comma is split in
    two (and its second half refused): a known limit.
    """
    feeds: list[Feed] = []
    seen: set[str] = set()
    for value in args.get("url", ()):
        url = check_url(value)
        if url in seen:
            continue
        seen.add(url)
        feeds.append(Feed(key=f"url:{url}", start_url=url, walkable=False))
    return feeds
