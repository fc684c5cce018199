"""`hoard crawl SITE --OPTION VALUES ...`: fetch reviews from a site into the archive.

One subcommand per site name, made from the sites found by discovery: each site's feed options
become its `--OPTION`s.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.errors import UsageError
from reviewhoard.hoard.logging_options import (
    check_flags,
    echo_json,
    json_option,
    log_file_option,
    quiet_option,
    summary_dict,
    verbose_option,
)
from reviewhoard.hoard.options import db_option
from reviewhoard.sites import Site, all_sites

COMMON_HELP = """
Every page that was read is kept raw in the archive (`pages`) for `hoard reparse`. In update
mode (the default) a feed stops at the first page whose reviews are all archived and unchanged,
so a routine run costs about one request per feed; full mode walks every page, then marks the
reviews a walked feed no longer shows as gone.

Polite by default: robots.txt, one request at a time, at least {delay:g} s apart on the real
site, Retry-After honoured on 429/503, an honest User-Agent ($HOARD_USER_AGENT to change it).
A robots.txt that answers 4xx means no rules; one that cannot be read (5xx after retries, a
network error, a body the parser rejects) means nothing may be fetched (RFC 9309): the crawl
stops at once (robots_unreadable, exit 3).

Prints one summary line (--json: one JSON object instead); errors, alarms and the stop reason
go to stderr, one line each (-v/-vv for Scrapy's log, --log-file to keep it). Exit 3 (with the
reason on stderr) when the crawl stopped because a page no longer looks like a review page, the
site sent a challenge, block or mobile page, it kept answering 429, or robots.txt could not be
read.
"""


def _option_flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _site_command(name: str, site: Site) -> click.Command:
    """`hoard crawl NAME`: the site's feed options plus the options every crawl takes."""

    def run(**kwargs: Any) -> int:
        return crawl(name, site, kwargs)

    examples = list(site.crawl_examples) or [
        " ".join(
            f"{_option_flag(o.name)} {o.choices[0] if o.choices else o.metavar}"
            for o in site.options[:1]
        )
    ]
    example = examples[0]
    params: list[click.Parameter] = [
        click.Option(
            [_option_flag(o.name), o.name],
            multiple=True,
            metavar=o.metavar,
            type=click.Choice(o.choices) if o.choices else None,
            help=o.help,
        )
        for o in site.options
    ]
    terms = site.policy.terms_forbid_crawling
    doc = (
        f"Fetch reviews from {site.name} into the archive, politely.\n"
        + (
            f"\nNot without permission: {terms.rstrip('.')}. --terms-ok says you have it.\n"
            if terms
            else ""
        )
        + (f"\n{site.crawl_notes}\n" if site.crawl_notes else "")
        + COMMON_HELP.format(delay=site.policy.min_delay)
        + "\n\b\nExamples:\n"
        + "".join(f"  hoard crawl {name} {e}\n" for e in examples)
        + f"  hoard crawl {name} {example} --mode full\n"
        f"  hoard crawl {name} {example} --base-url http://127.0.0.1:8765 -s DOWNLOAD_DELAY=0\n"
    )
    command = click.Command(
        name,
        callback=run,
        params=params,
        help=doc,
        epilog=exitcodes.EPILOG,
        short_help=f"{site.name}: " + ", ".join(f"--{o.name}" for o in site.options),
        hidden=name != site.key,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for decorate in reversed(COMMON_OPTIONS):
        decorate(command)
    return command


COMMON_OPTIONS = [
    click.option(
        "--mode",
        type=click.Choice(["update", "full"]),
        default="update",
        show_default=True,
        help="update: newest first, stop a feed at the first page that is all archived and "
        "unchanged. full: every page, then mark reviews no longer shown as gone.",
    ),
    db_option,
    click.option(
        "--base-url",
        metavar="URL",
        help="Fetch from this address instead of the real site (a replay site or a mirror); "
        "stored URLs stay the site's own.",
    ),
    click.option(
        "-s",
        "--set",
        "settings",
        multiple=True,
        metavar="NAME=VALUE",
        help="A Scrapy setting for this run, e.g. -s DOWNLOAD_DELAY=5.",
    ),
    verbose_option,
    quiet_option,
    log_file_option,
    json_option,
    click.option(
        "--warc",
        metavar="DIR",
        help="Also keep every response fetched in WARC files in DIR (gzip per record, a new "
        "file every 1 GB), for other web-archive tools; `hoard import` reads them back.",
    ),
    click.option(
        "--terms-ok",
        is_flag=True,
        help="You have the site's permission to crawl it, where its terms forbid automated "
        "collection (see the site's --help).",
    ),
    click.option(
        "--redis",
        "redis_url",
        metavar="URL",
        help="Put the feeds in the shared frontier at this Redis (redis://HOST:PORT/DB) for "
        "`hoard worker`s and the writer (`hoard write`), then wait for the run's outcome.",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        metavar="N",
        help="With --redis: also run the writer (on --db) and N workers here, until done.",
    ),
]


def refuse_forbidden(site: Site, where: str = "") -> None:
    """One line, exit 2, when the site's terms forbid crawling it: what to do instead."""
    reason = site.policy.terms_forbid_crawling
    if reason:
        raise UsageError(
            f"{where}{site.key}: {reason.rstrip('.')}; not crawled. Import saved pages, WARC "
            "files or the site's own export instead (hoard import), or pass --terms-ok "
            "(terms_ok = true in a [[watch]]) if you have the site's permission"
        )


def crawl(name: str, site: Site, kwargs: dict[str, Any]) -> int:
    """Run one site's crawl under the supervisor; the exit status."""
    from reviewhoard.hoard.crawl.run import (
        CrawlSpec,
        check_specs,
        parse_setting_overrides,
        project_settings,
    )

    mode = kwargs.pop("mode")
    db_path = kwargs.pop("db_path")
    base_url = kwargs.pop("base_url")
    settings = kwargs.pop("settings")
    verbose = kwargs.pop("verbose")
    quiet = kwargs.pop("quiet")
    log_file = kwargs.pop("log_file")
    as_json = kwargs.pop("as_json")
    warc = kwargs.pop("warc")
    redis_url = kwargs.pop("redis_url")
    workers = kwargs.pop("workers")
    if workers and not redis_url:
        raise UsageError("--workers goes with --redis URL (the workers share that frontier)")
    check_flags(verbose, quiet, log_file)
    if redis_url and (as_json or log_file):
        flag = "--json" if as_json else "--log-file"
        raise UsageError(
            f"{flag} does not go with --redis: the workers keep their own logs and the run's "
            "outcome is printed as its summary line"
        )
    if not kwargs.pop("terms_ok"):
        refuse_forbidden(site)
    args = {k: ",".join(v) for k, v in kwargs.items() if v}
    if not args:
        wanted = ", ".join(f"{_option_flag(o.name)} {o.metavar}" for o in site.options)
        raise UsageError(f"nothing to crawl: pass {wanted} (see hoard crawl {name} --help)")
    args["mode"] = mode
    overrides: dict[str, object] = dict(parse_setting_overrides(settings))
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url {base_url!r}: give an http:// or https:// address")
        overrides["HOARD_BASE_URLS"] = {site.key: base_url.rstrip("/")}
    if warc:
        from reviewhoard.middlewares.warc_writer import warc_folder, with_warc_writer

        try:
            overrides = with_warc_writer({**overrides, "HOARD_WARC_DIR": warc_folder(warc)})
        except ValueError as exc:
            raise UsageError(f"--warc {warc}: {exc}") from None
    typed = sys.argv[2:] if sys.argv[1:2] == ["crawl"] else [name, *map(str, args.values())]
    command_line = shlex.join(["hoard", "crawl", *typed])
    specs = [CrawlSpec(site.key, args)]
    check_specs(project_settings(overrides), specs)  # a bad id is exit 2 before any lock or row
    if redis_url:
        from reviewhoard.hoard.distributed.submit import crawl_over_redis

        return crawl_over_redis(
            redis_url, specs, overrides, command_line, workers=workers or 0,
            db_path=Path(db_path), verbose=bool(verbose),
        )  # fmt: skip
    # Through the supervisor, like `hoard update`: the archive's run lock (exit 75), SIGINT/
    # SIGTERM (130/143), data-quality alarms (3), the crawls row, a WAL checkpoint.
    from reviewhoard.hoard.crawl.supervise import supervise

    outcome = supervise(
        Path(db_path), specs, overrides, command_line,
        verbose=verbose, quiet=quiet, log_file=log_file,
    )  # fmt: skip
    assert outcome.result is not None
    if as_json:
        echo_json(summary_dict(outcome, "crawl", db_path))
    else:
        click.echo(outcome.result.summary_line())
    if outcome.status == exitcodes.PARTIAL:
        click.echo(
            f"hoard: {outcome.errors} request(s) or item(s) failed; run again with --verbose "
            "to see which",
            err=True,
        )
    return outcome.status


class SiteGroup(click.Group):
    """`hoard crawl SITE`: a subcommand per site name (aliases accepted, not listed)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for site in all_sites().values() for name in site.names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        for site in all_sites().values():
            if cmd_name.lower() in site.names:
                return _site_command(cmd_name.lower(), site)
        return None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            known = ", ".join(sorted(all_sites()))
            raise UsageError(f"unknown site {name!r}; known sites: {known}")
        return super().resolve_command(ctx, args)


@click.group(
    "crawl",
    cls=SiteGroup,
    epilog=exitcodes.EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
def command() -> None:
    """Fetch reviews from SITE into the archive, politely.

    `hoard crawl SITE --help` lists the site's feed options and examples.
    """
