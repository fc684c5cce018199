"""JSON-LD: the page's `application/ld+json` blocks, and the Review nodes anywhere in them.

The blocks are found in the page text by searching for scripts and comments (a block inside an
HTML comment is not read), without building an HTML tree: a script's content is raw text in HTML
(no entities, no tags), so the text between its tags is the JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from reviewhoard.sites.schemaorg.record import HOLDING_PROPERTIES, Node, absolute, is_review

# The start of a comment or of a script (with its attributes); each is then skipped to its end
# with a plain search (a lazy `.*?` over the page is many times slower).
_OPENING = re.compile(r"<(?:!--|[sS][cC][rR][iI][pP][tT](?=[\s/>])([^>]*)>)")
_SCRIPT_END = re.compile(r"</[sS][cC][rR][iI][pP][tT]\s*>")
_TYPE_ATTRIBUTE = re.compile(r"""(?:^|[\s/])type\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_WRAPPERS = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
# Strings (kept), and what lenient JSON writers add outside them: comments, trailing commas.
_LENIENT = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.S)
_HOLDING_KEYS = frozenset(
    prefix + name
    for name in HOLDING_PROPERTIES
    for prefix in ("", "schema:", "http://schema.org/", "https://schema.org/")
)
_REVERSE_HOLDING_KEYS = frozenset(
    prefix + "itemReviewed"
    for prefix in ("", "schema:", "http://schema.org/", "https://schema.org/")
)
_MENTIONS_REVIEW = re.compile(r"""["'/:](?:User|Critic)?Review["']""")


@dataclass(slots=True)
class Blocks:
    """The page's JSON-LD blocks, read."""

    data: list[Any] = field(default_factory=list)
    """Each readable block's JSON value, in page order."""
    broken: list[str] = field(default_factory=list)
    """One line per block that is not JSON even leniently read: "block N: reason"."""
    broken_with_reviews: bool = False
    """True when a broken block names a Review type (it may have held reviews)."""
    may_hold_reviews: bool = False
    """True when a readable block has the word "Review" in it (else none holds a review)."""


def find_blocks(text: str) -> Blocks:
    """Every `<script type="application/ld+json">` of the page text, parsed (not those inside
    HTML comments)."""
    blocks = Blocks()
    number = 0
    at = 0
    while True:
        opening = _OPENING.search(text, at)
        if opening is None:
            return blocks
        attributes = opening.group(1)
        if attributes is None:  # a comment: to its end, or to the end of the page
            if text.startswith((">", "->"), opening.end()):  # `<!-->`, `<!--->`: empty
                at = text.find(">", opening.end()) + 1
                continue
            end = text.find("-->", opening.end())
            at = end + 3 if end >= 0 else len(text)
            continue
        closing = _SCRIPT_END.search(text, opening.end())
        at = closing.end() if closing else len(text)
        if not _is_json_ld(attributes):
            continue
        source = text[opening.end() : closing.start() if closing else len(text)]
        number += 1
        if not source.strip():
            continue
        try:
            if closing is None:
                raise ValueError("the script never closes (the page may be cut short)")
            blocks.data.append(loads(source))
            blocks.may_hold_reviews = blocks.may_hold_reviews or "Review" in source
        except (ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            blocks.broken.append(f"JSON-LD block {number}: {reason}")
            if _MENTIONS_REVIEW.search(source):
                blocks.broken_with_reviews = True


def _is_json_ld(attributes: str) -> bool:
    found = _TYPE_ATTRIBUTE.search(attributes)
    if found is None:
        return False
    value = found.group(1) or found.group(2) or found.group(3) or ""
    return value.split(";", 1)[0].strip().lower() == "application/ld+json"


def loads(source: str) -> Any:
    """JSON as pages write it: strict JSON first; then without `<!-- -->`/CDATA wrappers,
    comments and trailing commas; then several values one after another (a list of them).
    ValueError when none of that reads."""
    try:
        return json.loads(source, strict=False)
    except ValueError as exc:
        first_error = exc
    repaired = _LENIENT.sub(_keep_strings, _WRAPPERS.sub("", source))
    try:
        return json.loads(repaired, strict=False)
    except ValueError:
        pass
    values = _sequence(repaired)
    if values is None:
        raise ValueError(f"not JSON ({first_error})") from None
    return values


def _keep_strings(match: re.Match[str]) -> str:
    token = match.group(0)
    return token if token.startswith('"') else ""


def _sequence(source: str) -> list[Any] | None:
    """`{...} {...}` or `{...},{...}`: the values in order; None unless all of it reads."""
    decoder = json.JSONDecoder(strict=False)
    values: list[Any] = []
    at, end = 0, len(source)
    while True:
        while at < end and (source[at].isspace() or source[at] == ","):
            at += 1
        if at >= end:
            return values if len(values) > 1 else None
        try:
            value, at = decoder.raw_decode(source, at)
        except ValueError:
            return None
        values.append(value)


class Graph:
    """The nodes of all blocks by `@id` (resolved against the page URL), so a reference
    `{"@id": ...}` anywhere finds the node it names. Nodes that share an `@id` are merged: the
    values of a property are joined in page order (its first value stays first), as JSON-LD
    merges node objects; a bare reference adds nothing to the node it names."""

    def __init__(self, roots: list[Any], page_url: str) -> None:
        self.page_url = page_url
        self.nodes: dict[str, Node] = {}
        copied: set[str] = set()
        for value in _in_page_order(roots):
            if "@id" not in value:
                continue
            ident = absolute(value["@id"], page_url)
            if ident is None:
                continue
            known = self.nodes.get(ident)
            if known is None:
                self.nodes[ident] = value
                continue
            if ident not in copied:  # never change the page's own dicts
                known = self.nodes[ident] = dict(known)
                copied.add(ident)
            for key, child in value.items():
                if key == "@id" or _is_reference(child):
                    known.setdefault(key, child)
                elif key not in known or _is_reference(known[key]):
                    known[key] = child
                else:
                    known[key] = _merged_values(known[key], child)

    def resolve(self, value: Any) -> Any:
        """The node an `{"@id": ...}` names (merged with every other node of that id)."""
        if isinstance(value, dict) and "@id" in value:
            ident = absolute(value["@id"], self.page_url)
            if ident is not None:
                return self.nodes.get(ident, value)
        return value


def _merged_values(old: Any, new: Any) -> list[Any]:
    """Two definitions' values of one property, each value once, the first one's first."""
    values = list(old) if isinstance(old, list) else [old]
    for value in new if isinstance(new, list) else [new]:
        if not any(value is v or value == v for v in values):
            values.append(value)
    return values


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= {"@id", "@type"}


def _in_page_order(roots: list[Any]) -> list[Node]:
    """Every dict of the blocks, in page order (depth first)."""
    out: list[Node] = []
    stack: list[Any] = list(reversed(roots))
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict):
            out.append(value)
            children = [
                c for k, c in value.items() if k != "@context" and isinstance(c, dict | list)
            ]
            stack.extend(reversed(children))
    return out


def review_nodes(roots: list[Any], graph: Graph) -> list[tuple[Node, Node | None]]:
    """Every Review node of the blocks once, where first met (references followed where they
    stand), with the item that holds it by `review`/`reviews` (the first such, wherever met)."""
    found: dict[int, tuple[Node, Node | None]] = {}
    expanded: set[int] = set()
    # (value, the item holding it when it sits under that item's review/reviews)
    stack: list[tuple[Any, Node | None]] = [(r, None) for r in reversed(roots)]
    while stack:
        value, holder = stack.pop()
        if isinstance(value, list):
            stack.extend((v, holder) for v in reversed(value))
            continue
        if not isinstance(value, dict):
            continue
        node = graph.resolve(value)
        if is_review(node):
            seen = found.get(id(node))
            # First met keeps its place; the first holder met anywhere is its subject.
            if seen is None or (seen[1] is None and holder is not None):
                found[id(node)] = (node, holder)
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        children = [
            (child, node if key in _HOLDING_KEYS else None)
            for key, child in node.items()
            if key not in ("@context", "@reverse") and isinstance(child, dict | list)
        ]
        reverse = node.get("@reverse")
        if isinstance(reverse, dict):
            # {"@reverse": {"itemReviewed": [reviews]}}: reviews of this node, written inside it.
            children += [
                (child, node if key in _REVERSE_HOLDING_KEYS else None)
                for key, child in reverse.items()
                if isinstance(child, dict | list)
            ]
        stack.extend(reversed(children))
    return list(found.values())
