"""Every Redis key the distributed crawl uses, in one place (one Redis database per archive).

A run (one `hoard crawl --redis` or `hoard update` submission) has jobs, one per spider and its
arguments, as a local run has crawlers. Per job, one stream per host is its frontier.
"""

from __future__ import annotations

PREFIX = "hoard"

RUN_LOCK = f"{PREFIX}:run-lock"
"""The id of the run being crawled (`SET NX`): one run at a time, as the archive's lock makes
one local run at a time; the writer deletes it when it closes the run."""
ACTIVE_RUNS = f"{PREFIX}:runs:active"
"""Set of the ids of runs submitted and not yet closed by the writer."""
NEXT_ID = f"{PREFIX}:next-id"
CAPTURES = f"{PREFIX}:captures"
"""Stream of captures and feed events, from the workers to the writer (group `writer`)."""
WRITER = f"{PREFIX}:writer"
"""Hash: the writer at work (pid, host, db, since) and `ready` once it has published what the
archive holds."""

WORKERS_GROUP = "workers"
WRITER_GROUP = "writer"
WRITER_CONSUMER = "writer"
"""The writer's one consumer name: a restarted writer reads what its predecessor left pending."""


def run(run_id: str) -> str:
    """Hash: command, jobs, watch_of_feed, crawl_id, captures/written counts, outcome (status,
    summary, seconds from submission to closing...)."""
    return f"{PREFIX}:run:{run_id}"


def run_stats(run_id: str) -> str:
    """Hash: the writer's counts for the run (`hoard/reviews_new`, ...)."""
    return f"{PREFIX}:run:{run_id}:stats"


def job(job_id: str) -> str:
    """Hash: run, spider, args, settings, queued/done counts, stop reason."""
    return f"{PREFIX}:job:{job_id}"


def job_stats(job_id: str) -> str:
    """Hash: the job's crawler stats summed over its workers."""
    return f"{PREFIX}:job:{job_id}:stats"


def job_seen(job_id: str) -> str:
    """Set: fingerprints of the job's requests (deduplication across workers)."""
    return f"{PREFIX}:job:{job_id}:seen"


def job_hosts(job_id: str) -> str:
    """Set: the hosts the job has a stream for."""
    return f"{PREFIX}:job:{job_id}:hosts"


def queue(job_id: str, host: str) -> str:
    """Stream: the job's requests to `host` (group `workers`)."""
    return f"{PREFIX}:q:{job_id}:{host}"


def lease(host: str) -> str:
    """String: who has a request to `host` in flight (`SET NX PX`), then the site's delay."""
    return f"{PREFIX}:lease:{host}"


def pause(host: str) -> str:
    """String: `host` answered 429/503; no worker asks it anything until this expires."""
    return f"{PREFIX}:pause:{host}"


def known(site: str) -> str:
    """Hash: review id -> content hash of the site's archived reviews (update mode's question)."""
    return f"{PREFIX}:known:{site}"


def known_cut(site: str) -> str:
    """Hash: review id -> hash of the cut form a list page shows of a review archived whole."""
    return f"{PREFIX}:known-cut:{site}"
