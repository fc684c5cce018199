"""`hoard crawl SITE ...`: the command lives with the rest of the crawl verb, in `hoard.crawl`."""

from reviewhoard.hoard.crawl.command import command

__all__ = ["command"]
