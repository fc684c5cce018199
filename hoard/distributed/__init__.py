"""Crawling on several machines into one archive, over Redis.

The same spiders, sites and settings as a local crawl, split in three kinds of process that
meet in one Redis server:

- the submitter (`hoard crawl SITE ... --redis URL`, `hoard update` with `redis = "URL"`) puts
  a run's start requests in the shared frontier (`frontier.submit`) and waits for its outcome;
- workers (`hoard worker --redis URL`, any number, on any machine) fetch and parse what the
  frontier holds, one Scrapy crawler per job (`worker`), and hand their captures to Redis;
- the writer (`hoard write --redis URL --db PATH`, one, beside the archive, holding its lock) is
  the archive's one writer (`writer`): captures in, rows out, acknowledged once committed.

The frontier is a Redis stream per job and host, read through a consumer group: an entry is
acknowledged (`XACK`) only after what its response yielded (captures, next requests, stats) is
in Redis, in one transaction, and the entries of a worker that died are claimed by another after
a visibility timeout (`XAUTOCLAIM`). Politeness is a lease per host (`SET NX PX`) held while a
request is in flight and kept for the site's delay after it (`politeness`). `keys` names every
Redis key; `link` waits out Redis outages.
"""
