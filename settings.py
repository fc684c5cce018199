"""Scrapy settings for reviewhoard: polite by default. The only module that reads the environment."""

from __future__ import annotations

import os

BOT_NAME = "reviewhoard"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Who we are, honestly; a contact URL so site operators can reach the person running the crawl.
HOARD_CONTACT_URL = os.environ.get("HOARD_CONTACT_URL", "https://github.com/reviewhoard/reviewhoard")
USER_AGENT = os.environ.get(
    "HOARD_USER_AGENT",
    f"reviewhoard/0.1 (+{HOARD_CONTACT_URL}; archiving community reviews)",
)

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

# Only HTTP(S): no local files, S3, FTP or data: URLs can be reached through a crawl.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

# The archive file (a `hoard` command's --db overrides it).
HOARD_DB = os.environ.get("HOARD_DB", "archive.db")

# Where MyAnimeList is reached; point it at a replay site or a mirror.
MAL_BASE_URL = os.environ.get("MAL_BASE_URL", "https://myanimelist.net")

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("HOARD_LOG_LEVEL", "INFO")
