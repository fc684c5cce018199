"""Data-quality alarms: small spidermon-style monitors over one run's stats and the archive's
memory of earlier runs.

Each check is a named, pure function `check(run) -> list[Alarm]`; `ALL_CHECKS` runs in order. An
alarm names the watch, the URL and the measured figure against its threshold; any alarm makes the
run's exit status 3 and is stored on the run's `crawls` row.

Why not spidermon itself: its monitors are unittest suites wired through Scrapy settings, it needs
jsonschema[format] and python-slugify for the core (boto, scrapinghub, sentry, slack... for the
monitoring extra), and it has no memory of earlier runs - the check that matters most here ("this
feed had reviews before and has none now") needs the archive's history anyway. The checks below
are the same idea (named monitors over stats, each failure a message) in ~200 lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

COVERAGE_FIELDS = ("rating", "text", "author", "published_at")
"""Fields every review should carry; coverage below COVERAGE_MIN in a run raises an alarm."""
COVERAGE_MIN = 0.99
FAILURE_MAX = 0.05
"""Largest share of page requests that may fail or answer 429 before the run raises an alarm."""
FAILURE_MIN_REQUESTS = 20
"""Fewer page requests than this are too few to judge a share by (one 429 in 5 is not 20% of
anything); failures still make the exit status 1."""

_FEED_STAT = re.compile(
    r"^hoard/feed/(?P<feed>.+)/(?P<what>pages|reviews|blocks|page_errors|request_errors)$"
)


@dataclass(slots=True, frozen=True)
class Alarm:
    """One data-quality problem of a run."""

    check: str
    """Name of the check that raised it ("feed_went_empty", ...)."""
    watch: str
    """Which watch (or "run" for the run as a whole) it concerns."""
    url: str | None
    """The feed's or an affected page's URL, to look at."""
    figure: float | int | str
    """What was measured (a count, a share, a finish reason)."""
    threshold: float | int | str
    """What it was held against."""
    message: str
    """One line for people: what is wrong and what to look at."""

    def to_dict(self) -> dict[str, Any]:
        """JSON shape stored in `crawls.alarms`."""
        return asdict(self)

    def line(self) -> str:
        """`alarm feed_went_empty: ... (watch #1 ..., https://...)` for stderr and the log."""
        where = f"{self.watch}, {self.url}" if self.url else self.watch
        return f"alarm {self.check}: {self.message} ({where})"


@dataclass(slots=True)
class FeedCounts:
    """What the spider counted for one feed (`film:SLUG`, `app:620`) in one run."""

    pages: int = 0
    reviews: int = 0
    blocks: int = 0
    page_errors: int = 0
    request_errors: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeedCounts:
        """Read back the JSON shape (unknown keys ignored, missing ones 0)."""
        return cls(
            **{
                k: int(data.get(k) or 0)
                for k in ("pages", "reviews", "blocks", "page_errors", "request_errors")
            }
        )


@dataclass(slots=True)
class Coverage:
    """How many reviews of a run carried a field, and one that did not."""

    present: int = 0
    total: int = 0
    example_missing: str | None = None


@dataclass(slots=True)
class RunFacts:
    """Everything the checks look at for one finished run."""

    stats: Mapping[str, Any]
    """The Scrapy stats of the run (merged over its crawlers)."""
    watch_of_feed: Mapping[str, str] = field(default_factory=dict)
    """Feed key -> how messages name the watch that asked for it."""
    url_of_feed: Mapping[str, str] = field(default_factory=dict)
    """Feed key -> its first page's URL."""
    previous: Mapping[str, FeedCounts] = field(default_factory=dict)
    """Feed key -> the counts of its last earlier run that read it (the archive's memory)."""
    coverage: Mapping[str, Coverage] = field(default_factory=dict)
    """Field name -> coverage over the reviews of this run."""
    interrupted: bool = False
    """Stopped by SIGINT/SIGTERM: the finish reason then says so without being an alarm."""

    def feeds(self) -> dict[str, FeedCounts]:
        """This run's per-feed counts, from `hoard/feed/<feed>/<what>` stats; every watched feed
        is present (a feed the spider never reached counts zero)."""
        return feed_counts(self.stats, self.watch_of_feed)

    def watch(self, feed: str) -> str:
        return self.watch_of_feed.get(feed, f"feed {feed}")


def feed_counts(
    stats: Mapping[str, Any], feeds: Mapping[str, Any] | None = None
) -> dict[str, FeedCounts]:
    """Per-feed counts from the spider's `hoard/feed/<feed>/<what>` stats, plus zero rows for
    the given feeds the stats do not mention."""
    counts: dict[str, FeedCounts] = {feed: FeedCounts() for feed in feeds or {}}
    for key, value in stats.items():
        match = _FEED_STAT.match(key)
        if match:
            feed = counts.setdefault(match["feed"], FeedCounts())
            setattr(feed, match["what"], int(value or 0))
    return counts


def _stat(stats: Mapping[str, Any], key: str) -> int:
    return int(stats.get(key) or 0)


def failures(stats: Mapping[str, Any]) -> int:
    """Requests and items that failed for good: feed pages that could not be fetched (after
    retries) or parsed, spider exceptions, rejected reviews."""
    total = _stat(stats, "hoard/reviews_rejected")
    total += sum(f.page_errors + f.request_errors for f in feed_counts(stats).values())
    total += sum(int(v or 0) for k, v in stats.items() if k.startswith("spider_exceptions/"))
    return total


def page_requests(stats: Mapping[str, Any]) -> int:
    """Requests sent for pages (robots.txt not counted)."""
    return _stat(stats, "downloader/request_count") - _stat(stats, "robotstxt/request_count")


def _compared_with_last_run(
    run: RunFacts, check: str, count: str, vanished: Callable[[FeedCounts], bool], why: str
) -> list[Alarm]:
    """An alarm for each feed whose `count` (reviews, blocks) the last run that yielded reviews
    had above 0 and `vanished` says is gone now."""
    alarms = []
    for feed, now in run.feeds().items():
        before = run.previous.get(feed)
        if before and getattr(before, count) > 0 and vanished(now):
            was = getattr(before, count)
            alarms.append(
                Alarm(
                    check,
                    run.watch(feed),
                    run.url_of_feed.get(feed),
                    0,
                    was,
                    why.format(feed=feed, pages=now.pages, was=was),
                )
            )
    return alarms


def check_feed_went_empty(run: RunFacts) -> list[Alarm]:
    """A feed that yielded reviews in its last run yields none now: the classic silent layout
    change (or the feed's URL moved)."""
    return _compared_with_last_run(
        run,
        "feed_went_empty",
        "reviews",
        lambda now: now.reviews == 0,
        "feed {feed} yielded 0 reviews from {pages} pages; its last run yielded {was} - check "
        "the page for a layout change",
    )


def check_blocks_vanished(run: RunFacts) -> list[Alarm]:
    """A feed's pages came back without review blocks where its last run found some."""
    return _compared_with_last_run(
        run,
        "blocks_vanished",
        "blocks",
        lambda now: now.pages > 0 and now.blocks == 0,
        "feed {feed}: {pages} pages carried 0 review blocks; its last run found {was} - the "
        "page layout probably changed",
    )


def check_field_coverage(run: RunFacts) -> list[Alarm]:
    """Rating, text, author and date each present on at least 99% of the run's reviews."""
    alarms = []
    for name in COVERAGE_FIELDS:
        cov = run.coverage.get(name)
        if not cov or cov.total == 0:
            continue
        share = cov.present / cov.total
        if share < COVERAGE_MIN:
            alarms.append(
                Alarm(
                    "field_coverage",
                    "run",
                    cov.example_missing,
                    round(share, 4),
                    COVERAGE_MIN,
                    f"{name} present on {cov.present} of {cov.total} reviews ({share:.1%}, "
                    f"below {COVERAGE_MIN:.0%}) - the parser misses it on some pages",
                )
            )
    return alarms


def check_failure_rate(run: RunFacts) -> list[Alarm]:
    """More than 5% of page requests failed or answered 429 (Too Many Requests), in a run of at
    least 20 page requests."""
    requests = page_requests(run.stats)
    if requests < FAILURE_MIN_REQUESTS:
        return []
    throttled = _stat(run.stats, "downloader/response_status_count/429")
    # Pages the parser refused stop the crawl and raise finish_reason; here: fetching failed.
    failed = sum(f.request_errors for f in run.feeds().values())
    share = min(1.0, (failed + throttled) / requests)
    if share <= FAILURE_MAX:
        return []
    worst = max(run.feeds().items(), key=lambda kv: kv[1].request_errors, default=None)
    url = run.url_of_feed.get(worst[0]) if worst and worst[1].request_errors else None
    return [
        Alarm(
            "failure_rate",
            "run",
            run.stats.get("hoard/first_failed_url") or url,
            round(share, 4),
            FAILURE_MAX,
            f"{failed} failed and {throttled} answered 429 of {requests} page requests "
            f"({share:.1%}, above {FAILURE_MAX:.0%}) - slow down (DOWNLOAD_DELAY) or check the "
            "log",
        )
    ]


USER_LIMITS = frozenset({"closespider_pagecount", "closespider_itemcount", "closespider_timeout"})
"""Finish reasons of limits the user set (Scrapy's CLOSESPIDER_* settings): the run stopped where
it was told to. Its feeds are not walked whole, so the next run picks up from there."""


def check_finish_reason(run: RunFacts) -> list[Alarm]:
    """The crawl ended for another reason than `finished` (e.g. layout_changed, mobile_page,
    too_many_429); a SIGINT/SIGTERM stop is an interruption, not an alarm."""
    reason = str(run.stats.get("finish_reason") or "unknown")
    if reason == "finished" or (run.interrupted and reason == "shutdown"):
        return []
    if reason in USER_LIMITS:
        return []  # the user asked for the limit (-s CLOSESPIDER_PAGECOUNT=1): not the site's doing
    url = run.stats.get("hoard/stop_url")
    detail = str(run.stats.get("hoard/stop_detail") or "")
    feed = next((f for f in run.watch_of_feed if detail.startswith(f + " ")), None)
    return [
        Alarm(
            "finish_reason",
            run.watch(feed) if feed else "run",
            str(url) if url else None,
            reason,
            "finished",
            f"the crawl stopped early: {reason}",
        )
    ]


Check = Callable[[RunFacts], list[Alarm]]
ALL_CHECKS: tuple[Check, ...] = (
    check_finish_reason,
    check_feed_went_empty,
    check_blocks_vanished,
    check_field_coverage,
    check_failure_rate,
)


def run_checks(run: RunFacts, checks: tuple[Check, ...] = ALL_CHECKS) -> list[Alarm]:
    """Every alarm of a run, in check order."""
    return [alarm for check in checks for alarm in check(run)]
