"""The `hoard` command: extract, import, crawl, update, stats, export, serve."""

__version__ = "0.1.0"
