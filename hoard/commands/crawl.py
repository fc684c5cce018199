"""`hoard crawl mal --anime 1,5114 ...`: fetch reviews from the site into the archive."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from hoard import exitcodes
from hoard.crawling import CrawlSpec, check_specs, parse_setting_overrides, project_settings
from hoard.errors import UsageError
from hoard.options import db_option

SPIDERS = {"mal": "mal", "myanimelist": "mal"}
BASE_URL_SETTINGS = {"mal": "MAL_BASE_URL"}


def mal_args(
    anime: tuple[str, ...],
    manga: tuple[str, ...],
    recent: tuple[str, ...],
    user: tuple[str, ...],
    mode: str,
) -> dict[str, str]:
    """The spider's `-a` arguments from the command's options (lists joined with commas)."""
    args = {"anime": anime, "manga": manga, "recent": recent, "user": user}
    out = {name: ",".join(values) for name, values in args.items() if values}
    if not out:
        raise UsageError(
            "nothing to crawl: pass --anime ID, --manga ID, --recent anime|manga or --user NAME "
            "(see hoard crawl --help)"
        )
    out["mode"] = mode
    return out


@click.command(
    epilog=exitcodes.EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.argument("site", type=click.Choice(sorted(SPIDERS)), metavar="SITE")
@click.option("--anime", multiple=True, metavar="IDS", help="Anime ids (comma-separated).")
@click.option("--manga", multiple=True, metavar="IDS", help="Manga ids (comma-separated).")
@click.option(
    "--recent",
    multiple=True,
    type=click.Choice(["anime", "manga"]),
    help="The site-wide list of new reviews.",
)
@click.option("--user", multiple=True, metavar="NAME", help="A profile's reviews.")
@click.option(
    "--mode",
    type=click.Choice(["update", "full"]),
    default="update",
    show_default=True,
    help="update: newest first, stop a feed at the first page that is all archived and "
    "unchanged. full: every page, then mark reviews no longer shown as gone.",
)
@db_option
@click.option(
    "--base-url",
    metavar="URL",
    help="Fetch from this address instead of the real site (a replay site or a mirror); "
    "stored URLs stay the site's own.",
)
@click.option(
    "-s",
    "--set",
    "settings",
    multiple=True,
    metavar="NAME=VALUE",
    help="A Scrapy setting for this run, e.g. -s DOWNLOAD_DELAY=5.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log (INFO) on stderr.")
def command(
    site: str,
    anime: tuple[str, ...],
    manga: tuple[str, ...],
    recent: tuple[str, ...],
    user: tuple[str, ...],
    mode: str,
    db_path: str,
    base_url: str | None,
    settings: tuple[str, ...],
    verbose: bool,
) -> int:
    """Fetch reviews from SITE (mal) into the archive, politely.

    A title's reviews tab is walked newest first, every page while there is a "More Reviews"
    link; in update mode (the default) a feed stops at the first page whose reviews are all
    archived and unchanged, so a daily run costs about one request per feed. Every page that
    was read is kept raw in the archive (`pages`) for `hoard reparse`.

    Polite by default: robots.txt, one request at a time, at least 2 s apart on the real site,
    Retry-After honoured on 429/503, an honest User-Agent ($HOARD_USER_AGENT to change it).

    \b
    Examples:
      hoard crawl mal --anime 1,5114 --manga 1
      hoard crawl mal --recent anime --user Archaeon --db ~/reviews.db
      hoard crawl mal --anime 1 --mode full          # also marks deleted reviews gone
      hoard crawl mal --anime 1 --base-url http://127.0.0.1:8765 -s DOWNLOAD_DELAY=0

    Prints one summary line; exit 3 (with the reason on stderr) when the crawl stopped because a
    page no longer looks like a review page, the site sent its mobile page, or kept
    answering 429.
    """
    spider = SPIDERS[site]
    args = mal_args(anime, manga, recent, user, mode)
    overrides: dict[str, object] = dict(parse_setting_overrides(settings))
    if base_url:
        if not base_url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url {base_url!r}: give an http:// or https:// address")
        overrides[BASE_URL_SETTINGS[spider]] = base_url.rstrip("/")
    typed = sys.argv[2:] if sys.argv[1:2] == ["crawl"] else [site, *map(str, args.values())]
    command_line = shlex.join(["hoard", "crawl", *typed])
    specs = [CrawlSpec(spider, args)]
    check_specs(project_settings(overrides), specs)  # a bad id is exit 2 before any lock or row
    # Through the supervisor, like `hoard update`: the archive's run lock (exit 75), SIGINT/
    # SIGTERM (130/143), data-quality alarms (3), the crawls row, a WAL checkpoint.
    from hoard.supervise import supervise

    outcome = supervise(Path(db_path), specs, overrides, command_line, verbose=verbose)
    assert outcome.result is not None
    click.echo(outcome.result.summary_line())
    if outcome.status == exitcodes.PARTIAL:
        click.echo(
            f"hoard: {outcome.errors} request(s) or item(s) failed; run again with --verbose "
            "to see which",
            err=True,
        )
    return outcome.status
