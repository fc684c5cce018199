"""Multi-page review feeds made from one saved page, for tests, benchmarks and demos.

Only first pages were saved from MyAnimeList. To crawl a title with many pages, a saved reviews tab
is cut into its page chrome and its `div.review-element` blocks; each page of the made-up feed is
the chrome around blocks renumbered to new review ids (`reviews.php?id=N`, `&id=N`,
`data-id="N"`), with its "More Reviews" link pointing at the next page (or gone on the last).
Review X always reuses the same saved block, so the same id keeps the same content from one state
of the feed to the next.
The pages are written to a scratch folder at run time; saved pages are never copied into the
project.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewhoard.replay.manifest import Manifest, Route, write_manifest
from reviewhoard.sites.myanimelist.feeds import title_reviews_url

BLOCK_START = re.compile(r'<div class="review-element\b')
DIV_TAG = re.compile(r"<div\b|</div>")
REVIEW_ID = re.compile(r"reviews\.php\?id=(\d+)")
MORE_LINK = re.compile(r'(<a\s+href=")[^"]*("[^>]*>\s*More Reviews\s*</a>)')
MORE_ANCHOR = re.compile(r"<a\b[^>]*>\s*More Reviews\s*</a>")
PER_PAGE = 20
CANONICAL = "https://myanimelist.net"
TITLE_BLOCK = (
    '<div class="titleblock mb4"><a href="https://myanimelist.net/anime/1/Cowboy_Bebop" '
    'class="title ga-click">Cowboy Bebop</a></div>'
)
"""What a listing's review block says about its title (the saved page's own title, Cowboy Bebop)."""


@dataclass(slots=True)
class PageTemplate:
    """A saved reviews tab cut into the chrome before and after its review blocks."""

    head: str
    blocks: list[str]
    block_ids: list[str]
    tail: str

    def block(self, review_id: int, edited: bool = False) -> str:
        """The saved block that stands for review `review_id`, renumbered to it; `edited` puts
        an author's note at the start of its text, as an edit on the site would change it."""
        n = review_id % len(self.blocks)
        old = re.escape(self.block_ids[n])
        # `reviews.php?id=N`, the report link's `&amp;id=N` and the reaction buttons' data-id.
        text = re.sub(rf"(?<=[?&;]id=){old}\b", str(review_id), self.blocks[n])
        text = re.sub(rf'data-id="{old}"', f'data-id="{review_id}"', text)
        if edited:
            text = text.replace(
                '<div class="text">', '<div class="text">Edit: rewatched it.<br />', 1
            )
        return text

    def render(
        self,
        review_ids: list[int],
        next_url: str | None,
        *,
        blocks: bool = True,
        edited: frozenset[int] = frozenset(),
        titled: bool = False,
    ) -> bytes:
        """A page holding `review_ids` (in order) that links to `next_url` (None: last page).

        `blocks=False` renders the same page with its review blocks' class renamed, which is what
        a site redesign looks like to a parser: a page that no longer carries review blocks.
        `titled` gives each block the reviewed title's link, as listings and profiles show it.
        """
        body = "".join(self.block(i, i in edited) for i in review_ids)
        if titled:
            body = body.replace('<div class="text">', TITLE_BLOCK + '<div class="text">')
        if not blocks:
            body = body.replace('class="review-element', 'class="review-card')
        page = self.head + body + self.tail
        if next_url is None:
            return MORE_ANCHOR.sub("", page).encode("utf-8")
        href = html.escape(next_url, quote=True)
        return MORE_LINK.sub(lambda m: m.group(1) + href + m.group(2), page).encode("utf-8")


def load_template(saved_page: Path) -> PageTemplate:
    """Cut a saved new-layout reviews tab (e.g. anime-1-reviews-2022-10.html) into a template."""
    text = saved_page.read_text(encoding="utf-8")
    starts = [m.start() for m in BLOCK_START.finditer(text)]
    if not starts:
        raise ValueError(f"{saved_page}: no div.review-element blocks to build pages from")
    depth, end = 0, len(text)
    for m in DIV_TAG.finditer(text, starts[-1]):
        depth += -1 if m.group() == "</div>" else 1
        if depth == 0:
            end = m.end()
            break
    blocks = [text[a:b] for a, b in zip(starts, [*starts[1:], end], strict=True)]
    ids = []
    for b in blocks:
        found = REVIEW_ID.search(b)
        if found is None:
            raise ValueError(f"{saved_page}: a review block without a reviews.php?id= link")
        ids.append(found.group(1))
    return PageTemplate(head=text[: starts[0]], blocks=blocks, block_ids=ids, tail=text[end:])


@dataclass(slots=True, frozen=True)
class FeedShape:
    """Where the pages of a made-up feed are served and how each links to the next."""

    name: str
    """File name prefix of its pages."""
    route: Route
    """Path pattern and fixed query of its pages (`p` is added per page)."""
    page_url: Callable[[int], str]
    """The canonical URL of page N (what a "More Reviews" link says)."""
    titled: bool = False
    """Blocks name their title (`div.titleblock`), as on listings and profiles."""


def title_tab(subject_type: str = "anime", subject_id: int | str = 1) -> FeedShape:
    """A title's reviews tab, at `/{type}/{id}/*/reviews?p=N`."""
    return FeedShape(
        name=f"{subject_type}-{subject_id}",
        route=Route(path=f"/{subject_type}/{subject_id}/*/reviews", file=""),
        page_url=lambda n: title_reviews_url(subject_type, subject_id, n),
    )


def site_listing(kind: str = "anime") -> FeedShape:
    """The site-wide listing of new reviews, at `/reviews.php?t=KIND&p=N`."""
    return FeedShape(
        name=f"recent-{kind}",
        route=Route(path="/reviews.php", file="", query={"t": kind}),
        page_url=lambda n: f"{CANONICAL}/reviews.php?t={kind}&p={n}",
        titled=True,
    )


def write_feed(
    directory: Path,
    template: PageTemplate,
    review_ids: list[int],
    shape: FeedShape | None = None,
    *,
    per_page: int = PER_PAGE,
    without_blocks: bool = False,
    edited: frozenset[int] = frozenset(),
) -> list[Route]:
    """Write the pages of one feed (default: anime 1's reviews tab) holding `review_ids`, newest
    first, and return the manifest routes serving them. An empty `review_ids` makes one page
    with no reviews."""
    shape = shape or title_tab()
    directory.mkdir(parents=True, exist_ok=True)
    chunks = [review_ids[i : i + per_page] for i in range(0, len(review_ids), per_page)] or [[]]
    routes = []
    for n, chunk in enumerate(chunks, start=1):
        next_url = shape.page_url(n + 1) if n < len(chunks) else None
        page = template.render(
            chunk, next_url, blocks=not without_blocks, edited=edited, titled=shape.titled
        )
        name = f"{shape.name}-p{n}.html"
        (directory / name).write_bytes(page)
        routes.append(Route(shape.route.path, name, query={**shape.route.query, "p": str(n)}))
    return routes


def write_site(directory: Path, routes: list[Route], robots_txt: str | None = None) -> Path:
    """Write the manifest serving `routes` (a running replay site picks the change up)."""
    manifest = Manifest(routes=routes) if robots_txt is None else Manifest(routes, robots_txt)
    return write_manifest(directory, manifest)
