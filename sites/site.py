"""What a site declares about itself, in its own folder: the one place a site is described.

A site folder `sites/<key>/` holds its parser(s) and an `__init__.py` defining `SITE = Site(...)`.
Everything outside the site folders (the spider, `hoard crawl`/`update`/`extract`, the watchlist,
the replay site, the benchmarks, the fixture tests) reads sites from `sites.all_sites()` and never
names one.

- `options` are the feeds a user can ask for: each is a `--NAME` option of `hoard crawl SITE`, a
  key of a `[[watch]]` table and a spider argument (`-a NAME=...`), with comma-separated values.
- `make_feeds(args)` turns the options' values into `Feed`s (ValueError names a bad value).
- `next_page(feed, parsed, page)` is the canonical URL of the feed's next page, or None.
- `follow_ups(parsed)` lists extra canonical URLs the crawl must fetch for a page's reviews to be
  whole (Letterboxd's full texts of cut reviews); `read_follow_up(body, url)` reads such a page
  into `TextCompletion`s, which the archive applies as the completion of the cut text.
- `check_review(review)` adds the site's own checks to the contract's (MAL's seven reactions).
- `policy` is how the site wants to be crawled: the least delay on the real host, the terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reviewhoard.items import Review, Subject
from reviewhoard.parsers.page import ParsedPage, TextCompletion


class SiteParser(Protocol):
    """A pure parser: bytes and the page's URL in, reviews and the next page out."""

    PARSER_VERSION: str

    def parse(self, body: bytes, url: str) -> ParsedPage: ...


@dataclass(slots=True, frozen=True)
class Feed:
    """One paged list of reviews: a title's reviews tab, a site-wide listing, a profile."""

    key: str
    """Unique within the site, and how stats, watchlists and the archive name it: `app:620`."""
    start_url: str
    """Canonical URL of its first page."""
    subject_type: str | None = None
    """The subject whose reviews the feed lists (a title's tab), or None (a listing, a profile)."""
    subject_id: str | None = None
    walkable: bool = False
    """True when the feed, walked to its end, shows every review of its subject, so a review
    not seen then is gone (`gone_at`). Needs `subject_type` and `subject_id`. False for a feed
    that only ever shows some (Goodreads' first 30)."""
    expects_reviews: bool = False
    """True when an empty first page can only mean a layout change (a site-wide listing)."""


@dataclass(slots=True, frozen=True)
class FeedOption:
    """A feed a user can ask for: `--NAME` on `hoard crawl SITE`, a `[[watch]]` key, `-a NAME=`."""

    name: str
    """Option name (lowercase, no dashes): "film", "company", "app"."""
    help: str
    """One line for `--help`."""
    metavar: str = "IDS"
    choices: tuple[str, ...] = ()
    """The only values allowed, when the option is a choice ("newest", "popular")."""


@dataclass(slots=True, frozen=True)
class CrawlPolicy:
    """How a site wants to be crawled."""

    min_delay: float = 2.0
    """Seconds between requests to the real host at least, whatever DOWNLOAD_DELAY says."""
    terms_forbid_crawling: str | None = None
    """When the site's terms forbid automated collection: one sentence saying so. `hoard crawl`
    and `hoard update` then refuse unless the user says they have permission (`--terms-ok`)."""


def _no_follow_ups(parsed: ParsedPage) -> list[str]:
    return []


def _no_checks(review: Review) -> list[str]:
    return []


def _no_follow_up_reader(body: bytes, url: str) -> list[TextCompletion]:
    raise NotImplementedError("this site fetches no follow-up pages")


def _same_id(feed: Feed, subject: Subject) -> bool:
    return subject.type == feed.subject_type and subject.id == feed.subject_id


def _parsed_next(feed: Feed, parsed: ParsedPage, page: int) -> str | None:
    return parsed.next_url


@dataclass(slots=True, frozen=True)
class Site:
    """One site, as its folder declares it."""

    key: str
    """Lowercase, stable: the `site` of its reviews ("letterboxd")."""
    name: str
    """How people write it ("Letterboxd")."""
    base_url: str
    """The canonical base URL ("https://letterboxd.com"): what stored URLs use."""
    domains: tuple[str, ...]
    """Hosts it serves (subdomains included): how a URL is recognised."""
    parser: SiteParser
    """Its page parser."""
    subject_types: tuple[str, ...]
    """What its reviews are about ("film")."""
    make_feeds: Callable[[Mapping[str, Sequence[str]]], list[Feed]]
    """Feeds from the options' values (each a list of strings); ValueError names a bad value."""
    options: tuple[FeedOption, ...] = ()
    aliases: tuple[str, ...] = ()
    """Other names a user may type ("mal")."""
    next_page: Callable[[Feed, ParsedPage, int], str | None] = _parsed_next
    follow_ups: Callable[[ParsedPage], list[str]] = _no_follow_ups
    read_follow_up: Callable[[bytes, str], list[TextCompletion]] = _no_follow_up_reader
    """Reads a follow-up page (a review's full text) into completions; PageError when it cannot."""
    check_review: Callable[[Review], list[str]] = _no_checks
    feed_shows: Callable[[Feed, Subject], bool] = _same_id
    """Whether a review of `subject` belongs on a page of this subject's feed: a page that shows
    another subject's reviews (a redirect to another title) fails the feed, so nothing is
    marked gone from it. Default: the same type and id."""
    policy: CrawlPolicy = field(default_factory=CrawlPolicy)
    saved_pages: Mapping[str, str] = field(default_factory=dict)
    """Saved pages in `shared/fixtures/<key>/` and the URL each came from (the fixture README);
    pages not listed have their URL guessed by `saved_page_url`."""
    saved_page_url: Callable[[str], str | None] = lambda name: None
    """The URL a saved page not in `saved_pages` came from, guessed from its file name."""
    fixtures_folder: str = ""
    """The folder under shared/fixtures holding its saved pages (default: the key)."""
    crawl_notes: str = ""
    """What a user of `hoard crawl SITE` must know about this site (a paragraph for --help)."""
    crawl_examples: tuple[str, ...] = ()
    """Feed options for the --help examples (`--book 14476341`); default: the first option."""
    watch_examples: tuple[str, ...] = ()
    """Example `[[watch]]` bodies (TOML lines after `site = ...`) for `hoard update --help`."""
    replay_routes: Sequence[Mapping[str, Any]] = ()
    """How the replay site serves its saved pages (`replay.manifest` routes, `file` relative to
    the site's fixtures folder), where the paths a crawl asks for differ from the saved pages'
    own URLs; default: each saved page at its URL's path and query."""
    bench_max_ratio: float = 2.0
    """`make bench`'s bar: the parser's time over the saved pages at most this many times its
    baseline's, in the same run."""
    bench_min_rate: int = 0
    """`make bench`'s bar: at least this many reviews/s (0: no such bar)."""
    bench_baseline: str = "lxml"
    """What `make bench` compares the parser with on the same pages: "lxml" (bare
    `lxml.html.fromstring`), "lxml+next_data" (that plus `json.loads` of `__NEXT_DATA__`) or
    "json" (bare `json.loads`)."""

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a user may type for it: the key, then the aliases."""
        return (self.key, *self.aliases)

    def serves(self, host: str) -> bool:
        """True when `host` is one of the site's domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def url_of_saved_page(self, name: str) -> str | None:
        """Where a saved page came from: the declared table, else the site's guess."""
        return self.saved_pages.get(name) or self.saved_page_url(name)
