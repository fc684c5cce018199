"""The crawl verb, in one place: `hoard crawl SITE ...` (`command.py`, one subcommand per site),
how spiders are run into the archive (`run.py`: one Scrapy process, the run's `crawls` row, the
result and its exit status), and what every crawl-running command goes through
(`supervise.py`: the run lock, signals, alarms, the progress and summary lines). `hoard update`
and the Redis frontier (`hoard.distributed`) run their crawls through the same two."""
