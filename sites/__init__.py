"""The sites reviewhoard knows, found by discovery: every package under `sites/` that defines
`SITE = Site(...)` in its `__init__.py`.

More folders of site packages can be named in `$HOARD_SITE_PATH` (separated like `$PATH`): a site
kept outside this repository (or the toy site of the tests) is then found like the others.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from functools import cache
from urllib.parse import urlsplit

from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.sites.site import CrawlPolicy, Feed, FeedOption, Site, SiteParser

__all__ = [
    "CrawlPolicy",
    "Feed",
    "FeedOption",
    "Site",
    "SiteParser",
    "all_sites",
    "parse_page",
    "site_for_url",
    "site_named",
]

_EXTRA_PATH = "HOARD_SITE_PATH"


@cache
def all_sites() -> dict[str, Site]:
    """Every site by key, in key order."""
    for folder in os.environ.get(_EXTRA_PATH, "").split(os.pathsep):
        if folder and os.path.isdir(folder) and folder not in __path__:
            __path__.append(folder)
    found: dict[str, Site] = {}
    for module in pkgutil.iter_modules(__path__):
        if not module.ispkg:
            continue
        package = importlib.import_module(f"{__name__}.{module.name}")
        site = getattr(package, "SITE", None)
        if isinstance(site, Site):
            if site.key in found:
                raise RuntimeError(f"two site folders declare the site {site.key!r}")
            found[site.key] = site
    return dict(sorted(found.items()))


def _known() -> str:
    return ", ".join(name for site in all_sites().values() for name in site.names)


def site_named(name: str) -> Site:
    """The site a user means by `name` (its key or an alias, any case); PageError otherwise."""
    wanted = name.strip().lower()
    for site in all_sites().values():
        if wanted in site.names:
            return site
    raise PageError(f"unknown site {name!r}; known sites: {_known()}")


def site_for_url(url: str) -> Site:
    """The site whose domains serve `url`; PageError when none does."""
    host = (urlsplit(url).hostname or "").lower()
    for site in all_sites().values():
        if host and site.serves(host):
            return site
    raise PageError(
        f"unknown site for URL {url!r} (host {host or 'missing'}); known sites: {_known()}; "
        "pass --site if the page is a mirror"
    )


def parse_page(body: bytes, url: str, site: str | None = None) -> ParsedPage:
    """Parse one page with the parser of `site` (or of the site recognised from `url`)."""
    chosen = site_named(site) if site else site_for_url(url)
    return chosen.parser.parse(body, url)
