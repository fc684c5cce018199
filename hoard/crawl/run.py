"""Run one or several spiders into the archive, in one process, and say how it went.

`run_crawls(db_path, specs, settings_overrides, command_line)` opens a `crawls` row, runs every
spec's spider in one Scrapy `CrawlerProcess` (with `HOARD_DB` and `HOARD_CRAWL_ID` set so the
pipelines record against that row), closes the row, and returns a `CrawlResult`: stats per spider
and in total, finish reasons, the exit status and a one-line summary. `hoard crawl` is this with
one spec; `hoard update` builds on it (pass `finish=False` to close the row yourself, e.g. with
alarms, and `on_crawler` to attach signal handlers or a progress line to each crawler).

A process can run this once: Twisted's reactor does not restart.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import UsageError

ALARM_REASONS: dict[str, str] = {
    "layout_changed": "a page no longer looks like a review page (layout change?)",
    "mobile_page": "the site sent the phone version of a page (check USER_AGENT)",
    "too_many_429": "the site kept answering 429 Too Many Requests; wait, then slow down",
    "too_many_503": "the site kept answering 503 Service Unavailable; try again later",
    "retry_after_too_long": "the site asked us to come back later than HOARD_RETRY_AFTER_MAX",
    "blocked": "the site answered with a challenge or block page; the crawl stopped (it is "
    "never evaded): try again much later, or import saved pages or the site's own export",
    "robots_unreadable": "robots.txt could not be read, so nothing may be fetched (RFC 9309)",
}
"""Finish reasons that mean something is wrong with the site or what it sends (exit 3)."""
INTERRUPTED_REASONS = ("shutdown", "cancelled")
UNREACHABLE_REASON = "host_unreachable"
"""The finish reason of a crawl whose site did not answer at all (exit 69)."""


@dataclass(slots=True)
class CrawlSpec:
    """One spider run: the spider's name and its arguments (`-a NAME=VALUE`)."""

    spider: str
    args: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """`steam app=620,440 mode=update`"""
        return " ".join([self.spider, *(f"{k}={v}" for k, v in self.args.items())])


@dataclass(slots=True)
class SpiderOutcome:
    """How one spider run ended."""

    spec: CrawlSpec
    finish_reason: str
    stats: dict[str, Any]


@dataclass(slots=True)
class CrawlResult:
    """What a `run_crawls` call did."""

    crawl_id: int | None
    outcomes: list[SpiderOutcome]
    seconds: float

    @property
    def stats(self) -> dict[str, Any]:
        """Every spider's stats merged: numbers summed, anything else from the first run."""
        return merge_stats([o.stats for o in self.outcomes])

    @property
    def alarm_reason(self) -> str | None:
        """The first finish reason that is an alarm (layout_changed, mobile_page...), or None."""
        return next((o.finish_reason for o in self.outcomes if o.finish_reason in ALARM_REASONS),
                    None)  # fmt: skip

    @property
    def interrupted(self) -> bool:
        return any(o.finish_reason in INTERRUPTED_REASONS for o in self.outcomes)

    @property
    def failures(self) -> int:
        """Requests, pages and items that failed (what makes a run partial)."""
        from reviewhoard.hoard.alarms import failures

        return failures(self.stats)

    @property
    def outcome(self) -> str:
        """The `crawls.outcome` word: ok, partial, alarm, interrupted or failed (a write)."""
        if self.stats.get("hoard/write_failed"):
            return "failed"
        if self.unreachable:
            return "unreachable"
        if self.alarm_reason:
            return "alarm"
        if self.interrupted:
            return "interrupted"
        return "partial" if self.failures else "ok"

    def exit_status(self) -> int:
        """0 ok; 1 some requests/items failed; 3 an alarm finish reason; 130 interrupted."""
        return {
            "ok": exitcodes.OK,
            "partial": exitcodes.PARTIAL,
            "alarm": exitcodes.ALARM,
            "interrupted": exitcodes.INTERRUPTED_SIGINT,
            "failed": exitcodes.WRITE_FAILED,
            "unreachable": exitcodes.UNREACHABLE,
        }[self.outcome]

    @property
    def unreachable(self) -> bool:
        return any(o.finish_reason == UNREACHABLE_REASON for o in self.outcomes)

    def reason_line(self) -> str | None:
        """One line for stderr when the crawl stopped early: what and where."""
        reason = self.alarm_reason or (UNREACHABLE_REASON if self.unreachable else None)
        if reason is None:
            return None
        stats = next(o.stats for o in self.outcomes if o.finish_reason == reason)
        detail = stats.get("hoard/stop_detail") or stats.get("hoard/stop_url") or ""
        return f"crawl stopped ({reason}): {detail or ALARM_REASONS.get(reason, reason)}"

    def summary_line(self) -> str:
        """One line: what was fetched and stored, how it ended."""
        s = self.stats
        feeds = feed_totals(s)
        pages = sum(v.get("pages", 0) for v in feeds.values())
        reviews = sum(v.get("reviews", 0) for v in feeds.values())
        reasons = sorted({o.finish_reason for o in self.outcomes})
        crawl = f"crawl {self.crawl_id}" if self.crawl_id is not None else "crawl"
        return (
            f"{crawl}: {len(feeds)} feed(s), {pages} page(s), {reviews} review(s) "
            f"({s.get('hoard/reviews_new', 0)} new, {s.get('hoard/reviews_updated', 0)} updated, "
            f"{s.get('hoard/reviews_unchanged', 0)} unchanged), "
            f"{s.get('downloader/request_count', 0)} request(s), {self.failures} failed; "
            f"{self.outcome} ({', '.join(reasons)}) in {self.seconds:.1f} s"
        )


LEFT_TO_THE_SPIDER = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
)
"""Loggers whose errors the spider reports itself, once, naming the page (robots.txt fetches
and retry give-ups)."""


def one_line_errors() -> None:
    """What reaches a person's terminal (or cron's mail) is one line per error, no traceback.
    `--verbose` and `--log-file` keep Scrapy's full account. (Scrapy replaces its log handler
    when a crawl starts, so this works on the loggers and on the records themselves.)"""
    for name in LEFT_TO_THE_SPIDER:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    make_record = logging.getLogRecordFactory()

    def without_traceback(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return record

    logging.setLogRecordFactory(without_traceback)


def merge_stats(all_stats: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Stats of several crawlers as one: numbers summed, other values from the first."""
    out: dict[str, Any] = {}
    for stats in all_stats:
        for key, value in stats.items():
            if key in out and isinstance(value, int | float) and isinstance(out[key], int | float):
                out[key] += value
            else:
                out.setdefault(key, value)
    return out


def feed_totals(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """`hoard/feed/<feed>/<what>` stats as {feed: {what: count}}."""
    out: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith("hoard/feed/") and isinstance(value, int):
            feed, _, what = key.removeprefix("hoard/feed/").rpartition("/")
            out.setdefault(feed, {})[what] = value
    return out


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The project's settings.py, whatever the working directory, with `overrides` on top."""
    settings = Settings()
    settings.setmodule("reviewhoard.settings", priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


REFUSED_SETTINGS: dict[str, str] = {
    "ITEM_PIPELINES": "the archive's writer is the crawl's only pipeline; without it nothing "
    "would be stored",
    "DOWNLOAD_HANDLERS": "only http and https are fetched (no local files, S3, FTP or data: URLs)",
    "DOWNLOADER_MIDDLEWARES": "the Retry-After, base-URL and WARC middlewares are the crawl's own",
    "ROBOTSTXT_OBEY": "robots.txt is always obeyed",
    "SPIDER_MODULES": "the spiders come from the site folders",
    "NEWSPIDER_MODULE": "the spiders come from the site folders",
    "TWISTED_REACTOR": "the crawl runs on the reactor it is built for",
    "HOARD_DB": "the archive is --db (or `db =` in the watchlist)",
    "HOARD_CRAWL_ID": "the run's row is the runner's",
}
"""Settings a user may not change from `-s` or a watchlist's [settings], and why: they would
break storage or politeness. Every other Scrapy setting is theirs."""


def refused_setting(name: str) -> str | None:
    """Why `name` may not be set (one line), or None when it may."""
    reason = REFUSED_SETTINGS.get(name)
    return f"setting {name} cannot be changed: {reason}" if reason else None


def parse_setting_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`["DOWNLOAD_DELAY=0", ...]` -> `{"DOWNLOAD_DELAY": "0"}`; UsageError names a bad one, or
    one that would break storage or politeness (`REFUSED_SETTINGS`)."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-s {pair!r}: write a Scrapy setting as NAME=VALUE")
        refused = refused_setting(name.strip())
        if refused:
            raise UsageError(f"-s {name.strip()}: {refused}")
        out[name.strip()] = value
    return out


def check_specs(settings: Settings, specs: list[CrawlSpec]) -> None:
    """Fail early, with one line, on an unknown spider or arguments its spider refuses."""
    loader = SpiderLoader.from_settings(settings)
    for spec in specs:
        try:
            spidercls = loader.load(spec.spider)
        except KeyError:
            known = ", ".join(loader.list())
            raise UsageError(f"unknown spider {spec.spider!r}; known: {known}") from None
        try:
            spidercls(**spec.args)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{spec.describe()}: {exc}") from None
        problem = getattr(spidercls, "settings_problem", lambda _: None)(settings)
        if problem:
            raise UsageError(f"{spec.describe()}: {problem}")


def run_crawls(
    db_path: str,
    specs: list[CrawlSpec],
    settings_overrides: Mapping[str, Any] | None,
    command_line: str,
    *,
    verbose: bool = False,
    finish: bool = True,
    record: bool = True,
    on_crawler: Callable[[Crawler], None] | None = None,
    install_signal_handlers: bool = True,
) -> CrawlResult:
    """Run every spec's spider into the archive at `db_path`, in one process; see the module doc.

    `record=False` runs without a `crawls` row; `finish=False` leaves the row open for the caller.
    """
    overrides = {"LOG_LEVEL": "INFO" if verbose else "WARNING", **(settings_overrides or {})}
    overrides["HOARD_DB"] = db_path
    settings = project_settings(overrides)
    check_specs(settings, specs)
    crawl_id: int | None = None
    if record:
        from reviewhoard.archive.writer import start_run

        args = {"specs": [s.describe() for s in specs], "settings": dict(settings_overrides or {})}
        crawl_id = start_run(db_path, command_line, json.dumps(args, default=str))
        settings.set("HOARD_CRAWL_ID", crawl_id, priority="cmdline")
    started = time.monotonic()
    process = CrawlerProcess(settings)
    if not settings.get("LOG_FILE") and settings.get("LOG_LEVEL") not in ("DEBUG", "INFO"):
        one_line_errors()
    crawlers: list[tuple[CrawlSpec, Crawler]] = []
    for spec in specs:
        crawler = process.create_crawler(spec.spider)
        if on_crawler is not None:
            on_crawler(crawler)
        process.crawl(crawler, **spec.args, **known_reviews(db_path, crawler, spec))
        crawlers.append((spec, crawler))
    process.start(install_signal_handlers=install_signal_handlers)
    outcomes = []
    for spec, crawler in crawlers:
        stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
        outcomes.append(SpiderOutcome(spec, str(stats.get("finish_reason", "not_started")), stats))
    result = CrawlResult(crawl_id, outcomes, time.monotonic() - started)
    if record and finish and crawl_id is not None:
        finish_crawl(db_path, result)
    logging.getLogger(__name__).info("%s", result.summary_line())
    return result


def known_reviews(db_path: str, crawler: Crawler, spec: CrawlSpec) -> dict[str, Any]:
    """Update mode's question ("all archived and unchanged?"), answered from the archive's
    digests of the spider's site, read once here and handed to the spider."""
    if spec.args.get("mode", "update") != "update":
        return {}
    from reviewhoard.archive.known import KnownReviews

    site_key = getattr(crawler.spidercls, "site_key", None)
    if site_key is None:
        return {}
    return {"archived_unchanged": KnownReviews.read(db_path, site_key)}


def finish_crawl(db_path: str, result: CrawlResult, alarms: list[Any] | None = None) -> None:
    """Close the result's `crawls` row with its outcome, counts and finish reasons."""
    from reviewhoard.archive.writer import finish_run

    assert result.crawl_id is not None
    s = result.stats
    outcome = "alarm" if alarms else result.outcome
    finish_run(
        db_path,
        result.crawl_id,
        outcome,
        reviews_new=int(s.get("hoard/reviews_new", 0)),
        reviews_updated=int(s.get("hoard/reviews_updated", 0)),
        reviews_unchanged=int(s.get("hoard/reviews_unchanged", 0)),
        reviews_rejected=int(s.get("hoard/reviews_rejected", 0)),
        pages_stored=int(s.get("hoard/pages_stored", 0)),
        requests=int(s.get("downloader/request_count", 0)),
        errors=result.failures,
        alarms=alarms,
        finish_reason=", ".join(sorted({o.finish_reason for o in result.outcomes})),
    )
