"""Microdata: the page's `itemtype="https://schema.org/Review"` items, as nodes like JSON-LD's.

Properties follow the microdata rules: an item's properties are the `itemprop` elements under
it (and under the elements its `itemref` names) that no nested item owns; a property's value is
the nested item, or the element's URL, `content`, `datetime`, `value` or text as its tag says.
Text values come out clean (`CleanText`): the review body with its line breaks and paragraphs,
without buttons and "Read more" links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

from lxml import etree

from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.text import clean_text, element_text
from reviewhoard.sites.schemaorg.record import CleanText, Node, absolute, short_type

_REVIEW_ITEMTYPE = re.compile(r"https?://schema\.org/(?:User|Critic)?Review/?")
MARKER = re.compile(r"schema\.org/(?:User|Critic)?Review\b")
"""Shows in the page text when it may hold microdata reviews (no tree is built otherwise)."""
HOLDING_PROPERTIES = frozenset({"review", "reviews"})
BODY_PROPERTIES = frozenset({"reviewBody", "description"})
_URL_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "audio": "src",
    "embed": "src",
    "iframe": "src",
    "img": "src",
    "source": "src",
    "track": "src",
    "video": "src",
    "object": "data",
}
_FURNITURE = frozenset(
    {
        "read more",
        "read less",
        "show more",
        "show less",
        "see more",
        "see less",
        "more",
        "less",
        "read full review",
    }
)
_MAX_NESTING = 32
_X_ITEMS = etree.XPath("//*[@itemscope][@itemtype]")


def read_tree(data: bytes, url: str) -> etree._Element:
    """The page's tree (UTF-8 bytes in); PageError when libxml2 could not read it whole."""
    # huge_tree lifts libxml2's depth limit from 256 to 2048; deeper than that, it drops the
    # whole document and says so in its error log.
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise PageError(f"not an HTML page ({exc}): check the file", url) from None
    if parser.error_log.filter_types([etree.ErrorTypes.ERR_RESOURCE_LIMIT]):
        raise PageError(
            "the page's markup is nested deeper than the HTML parser reads (2048 levels): "
            "it cannot be read whole",
            url,
        )
    if root is None:
        raise PageError("not an HTML page (no elements in it): check the file", url)
    return cast(etree._Element, root)


def review_items(root: etree._Element, page_url: str) -> list[tuple[Node, Node | None]]:
    """Every Review item of the page in page order, with the item holding it by its
    `review`/`reviews` property (None when no item does)."""
    reader = _Reader(root, page_url)
    found: list[tuple[Node, Node | None]] = []
    for element in cast(list[etree._Element], _X_ITEMS(root)):
        types = (element.get("itemtype") or "").split()
        if not any(_REVIEW_ITEMTYPE.fullmatch(t) for t in types):
            continue
        holder: Node | None = None
        names = {short_type(n) for n in (element.get("itemprop") or "").split()}
        if names & HOLDING_PROPERTIES:
            owner = next((a for a in element.iterancestors() if _is_item(a)), None)
            if owner is not None:
                holder = reader.item(owner)
        found.append((reader.item(element), holder))
    return found


def _is_item(element: etree._Element) -> bool:
    return element.get("itemscope") is not None


class _Reader:
    """Reads items into nodes, each element once."""

    def __init__(self, root: etree._Element, page_url: str) -> None:
        self.root = root
        self.page_url = page_url
        self.items: dict[etree._Element, Node] = {}
        self.by_id: dict[str, etree._Element] | None = None

    def item(self, element: etree._Element, depth: int = 0) -> Node:
        """The item of an `itemscope` element as a node: `@type`, `@id`, its properties."""
        known = self.items.get(element)
        if known is not None:
            return known
        node: Node = {"@type": (element.get("itemtype") or "").split()}
        self.items[element] = node  # before its properties: an itemref loop ends here
        itemid = (element.get("itemid") or "").strip()
        if itemid:
            node["@id"] = itemid
        for name, holder in self._properties(element):
            node.setdefault(name, []).append(self._value(holder, name, depth))
        return node

    def _properties(self, element: etree._Element) -> list[tuple[str, etree._Element]]:
        """(name, element) of every property of the item, in page order."""
        found: list[tuple[str, etree._Element]] = []
        starts: list[etree._Element] = [element]
        for ref in (element.get("itemref") or "").split():
            target = self._element_by_id(ref)
            if target is not None and target is not element:
                starts.append(target)
        for start in starts:
            stack = list(reversed(start)) if start is element else [start]
            while stack:
                child = stack.pop()
                if not isinstance(child.tag, str):
                    continue
                names = child.get("itemprop")
                if names:
                    found.extend((short_type(n), child) for n in names.split())
                if not _is_item(child):
                    stack.extend(reversed(child))
        return found

    def _element_by_id(self, ident: str) -> etree._Element | None:
        if self.by_id is None:
            self.by_id = {}
            for el in self.root.iter():
                key = el.get("id") if isinstance(el.tag, str) else None
                if key and key not in self.by_id:
                    self.by_id[key] = el
        return self.by_id.get(ident)

    def _value(self, element: etree._Element, name: str, depth: int) -> Any:
        if _is_item(element):
            if depth >= _MAX_NESTING:
                raise PageError(f"microdata items nested more than {_MAX_NESTING} deep")
            return self.item(element, depth + 1)
        tag = element.tag
        if tag == "meta":
            return CleanText(clean_text(element.get("content") or ""))
        attribute = _URL_ATTRIBUTES.get(cast(str, tag))
        if attribute is not None:
            return CleanText(absolute(element.get(attribute), self.page_url) or "")
        if tag in ("data", "meter"):
            return CleanText(clean_text(element.get("value") or ""))
        if tag == "time" and element.get("datetime") is not None:
            return CleanText(clean_text(element.get("datetime") or ""))
        if name in BODY_PROPERTIES:
            return CleanText(element_text(element, skip=_is_furniture))
        return CleanText(clean_text(" ".join(_all_text(element).split())))


def _all_text(element: etree._Element) -> str:
    return "".join(cast(Iterator[str], element.itertext()))


def _is_furniture(element: etree._Element) -> bool:
    """A "Read more" / "Show less" link or label inside a review body."""
    if element.tag not in ("a", "span"):
        return False
    label = " ".join(_all_text(element).split()).lower().strip(" .…»›>")
    return label in _FURNITURE
