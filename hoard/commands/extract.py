"""`hoard extract PAGE... [--url URL]`: saved pages to review JSON lines, with no network.

Each page is parsed whole before any of its reviews is printed, so a page that fails prints
nothing of its own (one line on stderr instead) while the other pages still print theirs.
Without --url each page is read at the address it names for itself (`parsers.page_address`).
"""

from __future__ import annotations

import json
import os
import sys
from typing import BinaryIO

import click

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import UsageError
from reviewhoard.items import Review
from reviewhoard.parsers import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.parsers.page_address import page_address
from reviewhoard.sites import Site, site_for_url, site_named

NO_ADDRESS = (
    'names no address of its own (no canonical link, og:url or "saved from url=" comment); '
    "pass --url URL"
)


def served(url: str) -> bool:
    """Whether a known site serves `url`."""
    try:
        site_for_url(url)
    except PageError:
        return False
    return True


def address_of(body: bytes, site: Site | None) -> tuple[Site, str]:
    """(site, URL) of a saved page from the address it names for itself (with `site`, that
    site reads it whatever the host); PageError, saying what to pass, when it names none or one
    no known site serves."""
    url = page_address(body, known=served)
    if url is None:
        raise PageError(NO_ADDRESS)
    if site is not None:
        return site, url
    try:
        return site_for_url(url), url
    except PageError:
        raise PageError(
            f"names {url}, which no known site serves; pass --site SITE (for a mirror) or --url URL"
        ) from None


def misfiled(body: bytes, url: str, site: Site, reviews: list[Review]) -> str | None:
    """Why a saved page may not be read at `url` (`--url`), or None: the page names an address
    of its own (canonical link, og:url, "saved from url=") of another site, or of the same site
    but another subject than `url` files its reviews under (a title's tab imported with another
    title's URL would move its reviews there and rename the title)."""
    own = page_address(body, known=served)
    if own is None or own == url:
        return None
    try:
        own_site = site_for_url(own)
    except PageError:
        return None
    fix = f"pass --url {own}, or leave --url out"
    if own_site.key != site.key:
        return f"the page names {own} ({own_site.name}), not {url} ({site.name}); {fix}"
    try:
        theirs = {(r.subject.type, r.subject.id) for r in own_site.parser.parse(body, own).reviews}
    except PageError:
        return None
    ours = {(r.subject.type, r.subject.id) for r in reviews}
    if theirs and ours and theirs != ours:
        named = ", ".join(f"{t} {i}" for t, i in sorted(theirs))
        filed = ", ".join(f"{t} {i}" for t, i in sorted(ours))
        return (
            f"the page names {own} ({named}), but --url {url} would file its reviews under "
            f"{filed}; {fix}"
        )
    return None


PAGE_LIMIT = 16 * 1024 * 1024
"""The most a saved page may hold (a crawl's DOWNLOAD_MAXSIZE): standard input, a pipe or a
device is never read past it."""


class PageTooLarge(OSError):
    """A saved page over `PAGE_LIMIT`."""


def read_page(page: str) -> bytes:
    """The bytes of a saved page; `-` is standard input. OSError when it cannot be read (stdin
    closed, no such file) or holds more than 16 MB (a page is never that big: a wrong file, or
    a device that never ends)."""
    if page == "-":
        if sys.stdin is None or sys.stdin.closed:
            raise OSError("standard input is closed")
        data = sys.stdin.buffer.read(PAGE_LIMIT + 1)
    else:
        with open(page, "rb") as handle:
            data = handle.read(PAGE_LIMIT + 1)
    if len(data) > PAGE_LIMIT:
        raise PageTooLarge(f"over {PAGE_LIMIT // (1024 * 1024)} MB, more than any page: not read")
    return data


def review_lines(parsed: ParsedPage) -> bytes:
    """The page's reviews as JSON lines (UTF-8, one review per line, contract key order)."""
    return b"".join(
        json.dumps(r.to_dict(), ensure_ascii=False).encode("utf-8") + b"\n" for r in parsed.reviews
    )


def extract(pages: tuple[str, ...], url: str | None, site: str | None, out: BinaryIO) -> int:
    """Parse every page, write each page's reviews once it parsed whole; the exit status.
    Without `url`, each page's own address (and the site serving it) is used."""
    chosen: Site | None = None
    try:
        if url is not None:
            chosen = site_named(site) if site else site_for_url(url)
        elif site is not None:
            chosen = site_named(site)
    except PageError as exc:
        # No page can be read: the line names them (the first, and how many more) all the same.
        more = f" (and {len(pages) - 1} more)" if len(pages) > 1 else ""
        raise UsageError(f"{pages[0]}{more}: {exc.reason}") from None
    failed = 0
    for page in pages:
        try:
            body = read_page(page)
            if chosen is not None and url is not None:
                page_site, page_url = chosen, url
            else:
                page_site, page_url = address_of(body, chosen)
            parsed = page_site.parser.parse(body, page_url)
            if url is not None and (wrong := misfiled(body, url, page_site, parsed.reviews)):
                raise PageError(wrong)
        except PageError as exc:
            failed += 1
            click.echo(f"hoard: {page}: {exc.reason}", err=True)
            continue
        except OSError as exc:
            failed += 1
            reason = exc.strerror or str(exc)
            click.echo(f"hoard: {page}: cannot read the file ({reason}); check the path", err=True)
            continue
        if parsed.kind == "no_reviews":
            # A reader of any site (schema.org) found none: say so, it is not an error.
            click.echo(f"hoard: {page}: no reviews on this page", err=True)
        out.write(review_lines(parsed))
        out.flush()
    return exitcodes.PARTIAL if failed else exitcodes.OK


@click.command(
    epilog=(
        "Example:\n\n"
        "\b\n"
        "  hoard extract saved/reviews-page.html \\\n"
        "      --url https://SITE/ADDRESS/OF/THE/PAGE | jq -r .text\n"
        "  hoard extract saved/*.html      # each page names its own address\n\n"
        "Exit status: 0 every page parsed (a page without reviews prints nothing); "
        "1 some page could not be read (its reason is on stderr, none of its reviews printed); "
        "2 usage error (unknown site)."
    )
)
@click.argument("pages", metavar="PAGE...", nargs=-1, required=True)
@click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Address the page(s) came from: picks the site, the reviewed title and the next page. "
    "Without it, each page's own: its canonical link, og:url or a browser's \"saved from url=\" "
    "comment.",
)
@click.option(
    "--site",
    metavar="SITE",
    help="Site parser to use instead of the one the URL's host names (a key or alias, as "
    "`hoard crawl --help` lists them).",
)
def command(pages: tuple[str, ...], url: str | None, site: str | None) -> int:
    """Print the reviews in saved pages as JSON lines, one review per line (no network).

    Each PAGE is a saved HTML file (`-` reads standard input). The review shape is the review
    contract: site, review_id, url, subject, author, published_at, text, rating, ... A page that
    cannot be read correctly (a mobile page, another kind of page, a layout the parser does not
    know, bytes that are not HTML, a page that names no address without --url) prints none of
    its reviews and one line on stderr: `hoard: PAGE: reason`.
    """
    out = sys.stdout.buffer
    try:
        return extract(pages, url, site, out)
    except BrokenPipeError:
        # The reader (e.g. `head`) has what it wanted; stop quietly without a traceback at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return exitcodes.OK
