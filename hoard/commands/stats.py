"""`hoard stats`: what the archive holds, per table, per site and per subject."""

from __future__ import annotations

import json

import click

from reviewhoard.archive.queries import stats
from reviewhoard.archive.tables import TABLES
from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.commands._archive import open_reader
from reviewhoard.hoard.options import db_option


@click.command(
    "stats",
    epilog="\b\nExamples:\n  hoard stats --db archive.db\n"
    "  hoard stats --json | jq .reviews\n\n" + exitcodes.EPILOG,
)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@click.option("--top", default=20, show_default=True, help="Subjects to list, most reviewed first.")
def command(db_path: str, as_json: bool, top: int) -> int:
    """Count what the archive holds: rows per table, reviews per site and per subject.

    The JSON has one count per table (`reviews`, `review_versions`, `pages`, `crawls`, ...),
    `reviews_edited`, `reviews_gone`, `page_bytes`, `per_site` and `per_subject` (all subjects).
    """
    conn = open_reader(db_path)
    try:
        data = stats(conn)
    finally:
        conn.close()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return exitcodes.OK
    click.echo(f"archive {db_path}")
    for table in TABLES:
        click.echo(f"  {table:<16} {data[table]:>10,}")
    click.echo(
        f"  edited reviews   {data['reviews_edited']:>10,}\n"
        f"  gone reviews     {data['reviews_gone']:>10,}\n"
        f"  page bytes       {data['page_bytes']['raw']:>10,} raw, "
        f"{data['page_bytes']['stored']:,} stored"
    )
    for site in data["per_site"]:
        click.echo(
            f"site {site['site']}: {site['reviews']:,} reviews of {site['subjects']:,} subjects "
            f"by {site['authors']:,} authors, {site['pages']:,} pages"
        )
    for subject in data["per_subject"][:top]:
        title = subject["title"] or "(untitled)"
        click.echo(
            f"  {subject['site']} {subject['type']} {subject['subject_id']} {title}: "
            f"{subject['reviews']:,} reviews, {subject['versions']:,} versions, "
            f"{subject['gone']:,} gone"
        )
    return exitcodes.OK
