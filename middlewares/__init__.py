"""Scrapy downloader and spider middlewares: politeness (Retry-After), base-URL rebasing."""
