"""The address a saved page names for itself, so pages can be imported without `--url`.

A browser or a saving tool usually leaves the page's address inside the file:

- the comment browsers write when saving a page ("Save Page As..."):
  `<!-- saved from url=(0040)https://example.org/film/1234/reviews -->`;
- the comment SingleFile writes at the top of the file (`url: https://...`);
- the page's own `<link rel="canonical" href="...">`;
- its Open Graph `<meta property="og:url" content="...">`.

The saving comments name the address the page was actually fetched from (with its query, e.g. a
page number), so they come first; the canonical link and og:url are what the site says the page
is. `page_address` returns the first candidate a known site serves (when given a way to tell),
else the first candidate at all, else None. Sites may add readers of their own data (`extra`).

Pure and fast: regular expressions over the start of the page (up to `</head>`), no full parse.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

SCAN_LIMIT = 1024 * 1024
"""Bytes of the page searched when no `</head>` comes sooner: the head of a saved page (MAL's
runs to 166 KB with inline scripts) is well within it."""

_SAVED_FROM = re.compile(rb"<!--\s*saved from url=\(\d+\)\s*([^\s>]+?)\s*-->", re.IGNORECASE)
_SINGLEFILE = re.compile(
    rb"<!--\s*Page saved with SingleFile\b.{0,200}?\burl:\s*(\S+)", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(rb"<(?:link|meta)\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(rb"""([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)


def _attributes(tag: bytes) -> dict[str, str]:
    """A tag's attributes, names lowercased, values entity-decoded."""
    out: dict[str, str] = {}
    for name, dq, sq, bare in _ATTR.findall(tag):
        value = dq or sq or bare
        out.setdefault(
            name.decode("ascii").lower(), html.unescape(value.decode("utf-8", "replace"))
        )
    return out


def _absolute(url: str) -> str | None:
    """`url` when it is an absolute http(s) address (what a page must name to be read)."""
    url = url.strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def named_addresses(body: bytes) -> list[str]:
    """Every address the page names for itself, best first, without repeats: the saving
    comments, then `<link rel=canonical>`, then `og:url`."""
    head = body[:SCAN_LIMIT]
    end = _HEAD_END.search(head)
    if end is not None:
        head = head[: end.start()]
    saved: list[str] = []
    for pattern in (_SAVED_FROM, _SINGLEFILE):
        for match in pattern.finditer(head[:65536]):
            saved.append(match.group(1).decode("utf-8", "replace"))
    canonical: list[str] = []
    og: list[str] = []
    for match in _TAG.finditer(head):
        tag = match.group(0)
        lowered = tag.lower()
        if b"canonical" not in lowered and b"og:url" not in lowered:
            continue  # most link and meta tags: skip without reading their attributes
        attrs = _attributes(tag)
        if lowered.startswith(b"<link") and "canonical" in attrs.get("rel", "").lower().split():
            canonical.append(attrs.get("href", ""))
        elif attrs.get("property", attrs.get("name", "")).lower() == "og:url":
            og.append(attrs.get("content", ""))
    found = [_absolute(u) for u in (*saved, *canonical, *og)]
    return list(dict.fromkeys(u for u in found if u))


def page_address(
    body: bytes,
    known: Callable[[str], bool] | None = None,
    extra: Iterable[Callable[[bytes], str | None]] = (),
) -> str | None:
    """The address the page names for itself, or None when it names none.

    `known(url)` says whether a site serves an address: the first candidate it accepts wins (a
    page saved through a proxy may name the proxy first and the site's canonical link after).
    `extra` are readers of a site's own data (tried after the generic ones).
    """
    candidates = named_addresses(body)
    for reader in extra:
        found = reader(body)
        if found and _absolute(found) and found not in candidates:
            candidates.append(found.strip())
    if known is not None:
        for url in candidates:
            if known(url):
                return url
    return candidates[0] if candidates else None
