"""The toy site's pages: `li.review` blocks with their data in attributes, `a.next` to page on."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html

from reviewhoard.items import Author, Review, Subject
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.parsers.text import element_text, require_html_bytes

PARSER_VERSION = "1"
_THING = re.compile(r"/things/(\d+)/reviews")


def parse(body: bytes, url: str) -> ParsedPage:
    """The reviews of a toy page; PageError when it is not one."""
    require_html_bytes(body, url)
    thing = _THING.search(url)
    root = lxml.html.fromstring(body)
    listing = root.find(".//ul[@class='reviews']")
    if thing is None or listing is None:
        raise PageError("not a toy reviews page (no ul.reviews)", url)
    reviews = []
    for block in listing.iterfind("li"):
        review_id, author, date = (block.get(k) for k in ("data-id", "data-author", "data-date"))
        if not review_id or not author or not date:
            raise PageError(f"a review block without its id, author or date: {review_id}", url)
        rating = block.get("data-rating")
        reviews.append(
            Review(
                site="toy",
                review_id=review_id,
                url=f"https://toy.example/reviews/{review_id}",
                subject=Subject("thing", thing.group(1), None, None),
                author=Author(author, None),
                published_at=date,
                text=element_text(block),
                rating=int(rating) if rating else None,
                rating_scale=5 if rating else None,
            )
        )
    after = root.find(".//a[@class='next']")
    next_url = urljoin(url, after.get("href", "")) if after is not None else None
    return ParsedPage(reviews, next_url, len(reviews), "reviews")
