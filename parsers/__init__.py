"""Pure page parsers: (body bytes, URL) in, reviews and the next page's URL out.

A parser never builds a Request, reads settings, touches files or the network. Each site is one
module exposing `SITE`, `DOMAINS`, `PARSER_VERSION` and `parse(body, url) -> ParsedPage`; this
registry finds the module for a URL or a site name.
"""

from __future__ import annotations

from types import ModuleType
from typing import Protocol, cast
from urllib.parse import urlsplit

from parsers import myanimelist
from parsers.errors import PageError
from parsers.page import ParsedPage

__all__ = ["PageError", "ParsedPage", "SiteParser", "parse_page", "parser_for", "site_for_url"]


class SiteParser(Protocol):
    SITE: str
    DOMAINS: tuple[str, ...]
    PARSER_VERSION: str

    def parse(self, body: bytes, url: str) -> ParsedPage: ...


_MODULES: tuple[ModuleType, ...] = (myanimelist,)
PARSERS: dict[str, SiteParser] = {cast(SiteParser, m).SITE: cast(SiteParser, m) for m in _MODULES}
ALIASES: dict[str, str] = {"mal": "myanimelist"}


def parser_for(site: str) -> SiteParser:
    """The parser for a site key ("myanimelist", or its alias "mal")."""
    key = ALIASES.get(site.lower(), site.lower())
    try:
        return PARSERS[key]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise PageError(f"unknown site {site!r}; known sites: {known}") from None


def site_for_url(url: str) -> str:
    """The site key whose domain serves `url`; PageError when no parser knows the host."""
    host = (urlsplit(url).hostname or "").lower()
    for key, parser in PARSERS.items():
        if any(host == d or host.endswith("." + d) for d in parser.DOMAINS):
            return key
    known = ", ".join(sorted(PARSERS))
    raise PageError(
        f"unknown site for URL {url!r} (host {host or 'missing'}); known sites: {known}; "
        "pass --site if the page is a mirror"
    )


def parse_page(body: bytes, url: str, site: str | None = None) -> ParsedPage:
    """Parse one page with the parser for `site` (or the one recognised from `url`)."""
    parser = parser_for(site) if site else parser_for(site_for_url(url))
    return parser.parse(body, url)
