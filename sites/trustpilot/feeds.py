"""Trustpilot's feeds: where a crawl starts and how it pages. Parsing is `parser.py`.

A company's review pages (`company` names, as in `trustpilot.com/review/NAME`), every language
(`languages=all`: a page's default may be one language) and newest first (`sort=recency`: the
default "relevance" order moves while a crawl pages), `?page=N` up to the page count the page
itself gives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from reviewhoard.sites.site import Feed

CANONICAL = "https://www.trustpilot.com"
SUBJECT_TYPE = "company"
FILTERS = "languages=all&sort=recency"
"""The query every page of a company's feed carries."""

_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
# A domain (letters of any script, so IDNs too), then optionally a path: `calo.app/en`.
_COMPANY = re.compile(rf"{_LABEL}(?:\.{_LABEL})+(?:/[\w.~-]+)*")


def company_url(name: str) -> str:
    """A company's profile page on the canonical host: `https://www.trustpilot.com/review/NAME`."""
    return f"{CANONICAL}/review/{quote(name, safe='/')}"


def reviews_url(name: str, page: int = 1) -> str:
    """Page `page` of a company's reviews, every language, newest first (page 1 has no `page`)."""
    tail = f"&page={page}" if page > 1 else ""
    return f"{company_url(name)}?{FILTERS}{tail}"


def company_name(value: str) -> str:
    """A company name as Trustpilot spells it (`eventnet.de`, `calo.app/en`): the domain part
    lowercased; ValueError for anything that is no domain (a URL, spaces, a bare word)."""
    name = value.strip().strip("/")
    domain, slash, path = name.partition("/")
    name = domain.lower() + slash + path
    if not _COMPANY.fullmatch(name) or ".." in name:
        raise ValueError(
            f"company names are domains as in trustpilot.com/review/NAME "
            f"(eventnet.de, calo.app/en), not {value!r}"
        )
    return name


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """The feeds asked for by `company`; ValueError names a bad value."""
    feeds: list[Feed] = []
    for value in args.get("company", ()):
        name = company_name(value)
        feeds.append(
            Feed(
                key=f"company:{name}",
                start_url=reviews_url(name),
                subject_type=SUBJECT_TYPE,
                subject_id=name,
                walkable=True,
            )
        )
    return feeds
