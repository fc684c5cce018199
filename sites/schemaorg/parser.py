"""schema.org reviews on any site: bytes and the page's URL in, the page's reviews out.

JSON-LD first: `Review`, `UserReview` and `CriticReview` nodes anywhere in the page's
`application/ld+json` blocks (top level, `@graph`, arrays, the `review`/`reviews` of the item
they review), `{"@id": ...}` references resolved across all blocks. Microdata only when no
JSON-LD block holds a review (pages with both repeat the same reviews, and the microdata copy
carries page furniture). RDFa is not read. The field rules are in `record.py` (sites.md).

A block that is not JSON is passed over when other blocks hold the reviews; when none does and
that block names a Review type, the page is refused (its reviews cannot be read, and a microdata
copy of them is no substitute). A page with no
schema.org review is no error: it has no reviews (kind "no_reviews").

Speed: JSON-LD blocks are found in the page text with one regular expression; an HTML tree is
built only for a page that may hold microdata reviews and has no JSON-LD review.
"""

from __future__ import annotations

import re
from typing import Any

from reviewhoard.items import Review
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.parsers.text import decode_page, require_html_bytes
from reviewhoard.sites.schemaorg import jsonld, microdata
from reviewhoard.sites.schemaorg.record import Node, Resolve, review_record, same_review_key

PARSER_VERSION = "1"

_JSON_START = re.compile(r"\s*[\[{]")
_TAG = re.compile(r"<(?:[A-Za-z][A-Za-z0-9-]*[\s/>]|!)")
_PAGE_END = ("</html", "</HTML", "</body", "</BODY")
_PAGE_END_ANY_CASE = re.compile(r"</(?:html|body)\b", re.I)
_CHALLENGE = re.compile(
    r"<title>\s*(?:Just a moment\.\.\.|Attention Required! \| Cloudflare|"
    r"Please Wait\.\.\. \| Cloudflare|DDoS-Guard|Pardon Our Interruption|"
    r"Access denied \| [^<]{0,200} used Cloudflare[^<]{0,100})\s*</title>"
    r"|captcha-delivery\.com|/_Incapsula_Resource|\bpx-captcha\b|/cdn-cgi/challenge-platform/h/",
    re.I,
)


def parse(body: bytes, url: str) -> ParsedPage:
    """Read the schema.org reviews of one page, in page order (next_url is always None).

    Raises PageError (naming `url`) for bytes that are no HTML page, a page cut short, a
    challenge page, or a page whose only review data is unreadable.
    """
    try:
        return _parse(body, url)
    except PageError as exc:
        if exc.where is None:
            exc.where = url
        raise
    except RecursionError:
        raise PageError("the page's data is nested too deeply to read whole", url) from None


def _parse(body: bytes, url: str) -> ParsedPage:
    require_html_bytes(body, url)
    text, utf8 = decode_page(body, url)
    if _JSON_START.match(text) or not _TAG.search(text, 0, 8192):
        raise PageError("not an HTML page (no HTML tags at its start): check the file", url)
    if _is_cut_short(text):
        raise PageError(
            "page is cut short (no closing </body> or </html>): its reviews may be partial; "
            "fetch it again",
            url,
        )
    blocks = jsonld.find_blocks(text)
    if blocks.may_hold_reviews:
        graph = jsonld.Graph(blocks.data, url)
        reviews = _unique(jsonld.review_nodes(blocks.data, graph), url, graph.resolve)
        if reviews:
            return ParsedPage(
                reviews=reviews, next_url=None, block_count=len(reviews), kind="jsonld"
            )
    if blocks.broken_with_reviews:
        # Its reviews are the page's JSON-LD reviews: a microdata copy (cut short, with page
        # furniture) is no substitute.
        raise PageError(
            f"{blocks.broken[0]}; it names a Review type and no other JSON-LD block holds a "
            "review: the page's reviews cannot be read",
            url,
        )
    if microdata.MARKER.search(text):
        root = microdata.read_tree(body if utf8 else text.encode("utf-8"), url)
        reviews = _unique(microdata.review_items(root, url), url, _same)
        if reviews:
            return ParsedPage(
                reviews=reviews, next_url=None, block_count=len(reviews), kind="microdata"
            )
    challenge = _CHALLENGE.search(text)
    if challenge:
        raise PageError(
            f"a bot challenge or block page ({challenge.group(0)[:60]!r}), not the page itself: "
            "fetch it again later or from a browser",
            url,
        )
    return ParsedPage(reviews=[], next_url=None, block_count=0, kind="no_reviews")


def _same(value: Any) -> Any:
    """Microdata has no references: every value is what it says."""
    return value


def _is_cut_short(text: str) -> bool:
    """A page that never closes its body or html element was cut in transfer."""
    if any(text.rfind(end) >= 0 for end in _PAGE_END):
        return False
    return _PAGE_END_ANY_CASE.search(text) is None


def _unique(pairs: list[tuple[Node, Node | None]], url: str, resolve: Resolve) -> list[Review]:
    """The records of the review nodes, each review once (same id, or same author, date and
    text), where first met; nodes with neither text nor rating are no reviews."""
    out: list[Review] = []
    seen: set[str] = set()
    for node, holder in pairs:
        review = review_record(node, holder, url, resolve)
        if review.text is None and review.rating is None:
            continue
        key = same_review_key(review, node) if review.text else None
        if review.review_id in seen or (key is not None and key in seen):
            continue
        seen.add(review.review_id)
        if key is not None:
            seen.add(key)
        out.append(review)
    return out
