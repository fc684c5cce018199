"""`hoard import PAGE... --url URL`: archive saved pages as if they had just been fetched."""

from __future__ import annotations

import json
import os
from datetime import datetime

import click

from archive.writer import ArchiveWriter
from hoard import exitcodes
from hoard.errors import HoardError, UsageError
from hoard.options import db_option
from items import Capture, utc_now
from parsers import PageError
from sites import site_for_url, site_named


def _read(page: str) -> bytes:
    try:
        with open(page, "rb") as handle:
            return handle.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise HoardError(f"{page}: cannot read the file ({reason}); check the path") from None


@click.command(
    "import",
    epilog="\b\nExample:\n  hoard import saved/reviews-page.html "
    "--url https://SITE/ADDRESS/OF/THE/PAGE --db archive.db\n"
    "  imported 1 page: 20 reviews new, 0 updated, 0 unchanged, 0 rejected -> archive.db\n\n"
    + exitcodes.EPILOG,
)
@click.argument("pages", nargs=-1, required=True, metavar="PAGE...")
@click.option("--url", required=True, help="The address the page(s) came from (names the site).")
@click.option("--site", default=None, help="Site key or alias when the URL is a mirror's.")
@click.option(
    "--fetched-at",
    default=None,
    metavar="ISO",
    help="When the pages were captured (ISO 8601, e.g. 2018-12-01T00:00:00Z); default now.",
)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def command(
    pages: tuple[str, ...],
    url: str,
    site: str | None,
    fetched_at: str | None,
    db_path: str,
    as_json: bool,
) -> int:
    """Archive saved pages exactly as if they had just been fetched.

    Each PAGE is stored raw in the `pages` table and its reviews go through the same pipelines
    as a crawl (normalize, validate, version, store): an unchanged review only has its
    last-seen time moved, an edited one gets a new version. Prints one summary line.
    A page that cannot be read is reported on stderr and skipped (exit 1); the others are kept.
    """
    try:
        chosen = site_named(site) if site else site_for_url(url)
    except PageError as exc:
        raise UsageError(exc.reason) from None
    parser = chosen.parser
    if fetched_at is not None:
        try:
            datetime.fromisoformat(fetched_at.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--fetched-at {fetched_at!r} is not an ISO 8601 time; e.g. 2018-12-01T00:00:00Z"
            ) from None
    writer = ArchiveWriter(
        db_path, command="hoard import", args={"pages": list(pages), "url": url, "site": site}
    )
    failed = archived = 0
    try:
        for page in pages:
            body = _read(page)
            try:
                parsed = parser.parse(body, url)
            except PageError as exc:
                failed += 1
                click.echo(f"hoard: {page}: {exc.reason}", err=True)
                continue
            writer.write(
                Capture(
                    url=url,
                    final_url=url,
                    status=200,
                    headers={"x-hoard-imported-from": os.path.basename(page)},
                    body=body,
                    fetched_at=fetched_at or utc_now(),
                    site=chosen.key,
                    parser_version=parser.PARSER_VERSION,
                    reviews=parsed.reviews,
                )
            )
            archived += 1
    except BaseException:
        writer.finish("failed", errors=failed + 1, finish_reason="error")
        raise
    counts = writer.counts()
    writer.finish(errors=failed, finish_reason="finished")
    summary = {"pages": archived, "failed_pages": failed, **counts, "db": db_path}
    if as_json:
        click.echo(json.dumps(summary))
    else:
        noun = "page" if archived == 1 else "pages"
        click.echo(
            f"imported {archived} {noun}: {counts['reviews_new']} reviews new, "
            f"{counts['reviews_updated']} updated, {counts['reviews_unchanged']} unchanged, "
            f"{counts['reviews_rejected']} rejected -> {db_path}"
        )
    return exitcodes.PARTIAL if failed or counts["reviews_rejected"] else exitcodes.OK
