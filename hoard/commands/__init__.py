"""One module per `hoard` subcommand, each defining `command` (a click.Command).

`SUMMARIES` is what `hoard --help` lists: one line a command, kept here so that listing them
imports none of them (Scrapy, Datasette and the archive load only for the command that runs).
"""

SUMMARIES: dict[str, str] = {
    "backup": "Copy the archive to one consistent file, while crawls go on.",
    "crawl": "Fetch reviews from a site into the archive, politely.",
    "export": "Write archived reviews as JSON lines, CSV, WARC or WACZ.",
    "extract": "Print the reviews in saved pages as JSON lines (no network).",
    "import": "Archive saved pages and web archives (WARC) as if crawled.",
    "reparse": "Read every stored page again with today's parsers.",
    "replay-site": "Serve saved pages on 127.0.0.1 at the paths they came from.",
    "serve": "Browse and query the archive in Datasette.",
    "stats": "Count what the archive holds, per table, site and subject.",
    "update": "Run every watch of the watchlist (hoard.toml): cron's command.",
    "worker": "Fetch and parse the requests of runs submitted to Redis.",
    "write": "Write what Redis workers fetch into the archive.",
}
