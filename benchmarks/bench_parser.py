"""Parser speed: reviews/s of every site's parser over its saved pages, on one core, against the
baseline its site declares, measured in the same run on the same bytes.

Baselines (`Site.bench_baseline`): "lxml" is `lxml.html.fromstring(body)`, the bare tree build every
lxml-based parser pays; "lxml+next_data" adds `json.loads` of the page's `__NEXT_DATA__` script
(pages that carry their data as JSON); "json" is `json.loads(body)` (JSON APIs). Each site declares
its bars (`bench_max_ratio`, `bench_min_rate`). The schema.org reader has no saved pages of its
own: it is measured on the other sites' HTML pages with their own reviews added as a JSON-LD
`Product` block, the way shops publish them. For scale the largest MyAnimeList page is also parsed
by parsel and, when installed, selectolax and BeautifulSoup.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

from benchmarks import fixtures_dir
from reviewhoard.parsers.errors import PageError
from reviewhoard.sites import Site, all_sites
from reviewhoard.sites.myanimelist import parser as myanimelist

ROUNDS = 40
ROOT = Path(__file__).resolve().parent.parent


def saved_pages(site: Site) -> list[tuple[bytes, str]]:
    """(body, URL) of the site's saved pages its parser reads (refused pages are not timed)."""
    folder = fixtures_dir() / (site.fixtures_folder or site.key)
    out = []
    for name, url in sorted(site.saved_pages.items()):
        path = folder / name
        if not path.is_file():
            continue
        body = path.read_bytes()
        try:
            site.parser.parse(body, url)
        except PageError:
            continue
        out.append((body, url))
    return out


def with_json_ld(pages: list[tuple[bytes, str]], site: Site) -> list[tuple[bytes, str]]:
    """HTML pages of other sites with their own reviews added as a schema.org JSON-LD block."""
    out = []
    for body, url in pages:
        reviews = site.parser.parse(body, url).reviews
        if not reviews or b"</head>" not in body:
            continue
        product = {
            "@context": "https://schema.org",
            "@type": "Product",
            "@id": url + "#product",
            "name": reviews[0].subject.title or "A product",
            "review": [
                {
                    "@type": "Review",
                    "author": {"@type": "Person", "name": r.author.name},
                    "datePublished": (r.published_at or "")[:10],
                    "reviewBody": r.text,
                    **({"reviewRating": {"@type": "Rating", "ratingValue": r.rating,
                                         "bestRating": r.rating_scale}}
                       if r.rating is not None else {}),
                }
                for r in reviews
            ],
        }  # fmt: skip
        script = (
            b'<script type="application/ld+json">' + json.dumps(product).encode() + b"</script>"
        )
        out.append((body.replace(b"</head>", script + b"</head>", 1), url))
    return out


def baseline(kind: str) -> Callable[[bytes], object]:
    """The bare work a parser of this kind cannot avoid."""
    if kind == "json":
        return json.loads
    if kind == "lxml+next_data":

        def tree_and_data(body: bytes) -> object:
            tree = lxml.html.fromstring(body)
            script = tree.find('.//script[@id="__NEXT_DATA__"]')
            return tree, json.loads(script.text or "null") if script is not None else None

        return tree_and_data
    return lxml.html.fromstring


def best_time(run: Callable[[], object], rounds: int = ROUNDS) -> float:
    """The fastest of `rounds` runs, in seconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def one_core() -> str:
    """Pin this process to one CPU, so the figure is a one-core figure."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def library_comparison(body: bytes, url: str) -> list[tuple[str, float]]:
    """Whole-page parse time of each HTML library installed, on the same bytes."""
    runs: list[tuple[str, Callable[[], object]]] = [
        ("lxml.html.fromstring", lambda: lxml.html.fromstring(body))
    ]
    import parsel

    runs.append(("parsel.Selector", lambda: parsel.Selector(body=body, type="html")))
    if importlib.util.find_spec("selectolax"):
        from selectolax.parser import HTMLParser

        runs.append(("selectolax", lambda: HTMLParser(body)))
    if importlib.util.find_spec("bs4"):
        from bs4 import BeautifulSoup

        runs.append(("BeautifulSoup (lxml)", lambda: BeautifulSoup(body, "lxml")))
        runs.append(("BeautifulSoup (html.parser)", lambda: BeautifulSoup(body, "html.parser")))
    runs.append(("hoard MAL parser (whole)", lambda: myanimelist.parse(body, url)))
    return [(name, best_time(run, 3 if "Beautiful" in name else ROUNDS)) for name, run in runs]


def measure(
    name: str,
    parse: Callable[[bytes, str], object],
    bare: Callable[[bytes], object],
    bodies: list[tuple[bytes, str]],
    reviews: int,
) -> tuple[float, float, float]:
    """(parser seconds, baseline seconds, reviews/s): best rounds, alternating the two so a busy
    machine slows both alike."""
    parser_s = bare_s = float("inf")
    for _ in range(ROUNDS):
        parser_s = min(parser_s, best_time(lambda: [parse(b, u) for b, u in bodies], 1))
        bare_s = min(bare_s, best_time(lambda: [bare(b) for b, _ in bodies], 1))
    return parser_s, bare_s, reviews / parser_s


def main() -> bool:
    sites = all_sites()
    pages = {key: saved_pages(site) for key, site in sites.items()}
    if not any(pages.values()):
        print(f"   no saved pages at {fixtures_dir()} (set $REVIEW_FIXTURES): nothing measured")
        return False
    html_pages = [
        (body, url, site)
        for key, site in sites.items()
        if site.bench_baseline != "json"
        for body, url in pages[key]
    ]
    for key, site in sites.items():
        if not pages[key] and site.bench_baseline == "lxml":
            # A reader of pages from any site (schema.org): the others' pages, with JSON-LD.
            pages[key] = [
                page
                for body, url, other in html_pages
                for page in with_json_ld([(body, url)], other)
            ]
    print(f"   {one_core()}; {ROUNDS} rounds, best round counts")
    print(f"   {'site':12} {'pages':>5} {'MB':>6} {'reviews':>7} {'parser':>9} {'baseline':>9} "
          f"{'ratio':>6} {'reviews/s':>10}  bars")  # fmt: skip
    ok = True
    for key, site in sites.items():
        bodies = pages[key]
        if not bodies:
            print(f"   {key:12} no pages to measure")
            continue
        reviews = sum(len(site.parser.parse(b, u).reviews) for b, u in bodies)
        megabytes = sum(len(b) for b, _ in bodies) / 1e6
        parser_s, bare_s, rate = measure(
            key, site.parser.parse, baseline(site.bench_baseline), bodies, reviews
        )
        ratio = parser_s / bare_s
        passed = ratio <= site.bench_max_ratio and rate >= site.bench_min_rate
        ok = ok and passed
        bars = f"<= {site.bench_max_ratio}x {site.bench_baseline}"
        if site.bench_min_rate:
            bars += f", >= {site.bench_min_rate:,}/s"
        print(
            f"   {key:12} {len(bodies):5} {megabytes:6.2f} {reviews:7} {parser_s * 1e3:7.1f}ms "
            f"{bare_s * 1e3:7.1f}ms {ratio:5.2f}x {rate:10,.0f}  {bars}: "
            f"{'PASS' if passed else 'FAIL'}"
        )

    # The largest MyAnimeList page with reviews, parsed whole by each HTML library, for scale.
    mal = pages.get("myanimelist") or []
    if mal:
        body, url = max(mal, key=lambda page: len(page[0]))
        print(f"   whole-page parse of the largest MyAnimeList page ({len(body) / 1e3:.0f} KB):")
        for name, seconds in library_comparison(body, url):
            print(f"     {name:28} {seconds * 1e3:8.1f} ms")
    print(f"   {'PASS' if ok else 'FAIL'}")
    return ok
