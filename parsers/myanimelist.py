"""MyAnimeList review pages (placeholder until the parser lands)."""

from __future__ import annotations

from parsers.errors import PageError
from parsers.page import ParsedPage

SITE = "myanimelist"
DOMAINS: tuple[str, ...] = ("myanimelist.net",)
PARSER_VERSION = "0"


def parse(body: bytes, url: str) -> ParsedPage:
    raise PageError("MyAnimeList parser not written yet", where=url)
