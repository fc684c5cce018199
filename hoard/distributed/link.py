"""The connection to Redis every distributed process shares, and how it waits out an outage.

`RedisLink.call(fn)` runs `fn(client)`; when Redis cannot be reached (down, restarting, still
loading its append-only file) it says so in one line on stderr, retries with a growing pause (at
most one second) and goes on when Redis is back: a restart of Redis costs a wait, never a lost
capture (what was not acknowledged is delivered again).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

T = TypeVar("T")

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    ConnectionError,
)
"""What an unreachable or restarting Redis raises (BusyLoadingError: still reading its AOF)."""
RETRY_CAP = 1.0


def check_url(url: str) -> str:
    """The URL if it is a Redis URL; ValueError naming the forms it takes otherwise."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"{url!r} is not a Redis URL (redis://HOST:PORT/DB, unix:///PATH)")
    return url


class RedisLink:
    """One Redis client of a process, with outage handling; `who` names the process in messages
    (`hoard worker`), `stream` is where the one line per outage goes."""

    def __init__(self, url: str, who: str, stream: TextIO | None = None) -> None:
        self.url = check_url(url)
        self.who = who
        self.stream = stream
        # Our own retry loop below says when Redis is gone; the client's would retry silently.
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_timeout=10,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )
        self.down = False
        self.outages = 0
        self.give_up: Callable[[], bool] = lambda: False
        """Checked between retries: True stops waiting (the process is shutting down)."""

    def call(self, fn: Callable[[redis.Redis], T]) -> T:
        """`fn(client)`, retried until Redis answers (or `give_up()` says to stop)."""
        pause = 0.05
        while True:
            try:
                result = fn(self.client)
            except OUTAGE_ERRORS as exc:
                self._went_away(exc)
                if self.give_up():
                    raise
                time.sleep(pause)
                pause = min(RETRY_CAP, pause * 2)
                continue
            if self.down:
                self.down = False
                logger.info("%s: Redis at %s is back", self.who, self.url)
            return result

    def _went_away(self, exc: BaseException) -> None:
        if self.down:
            return
        self.down = True
        self.outages += 1
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        stream = self.stream or sys.stderr
        stream.write(
            f"{self.who}: Redis at {self.url} is unreachable ({reason}); waiting for it, "
            "nothing is lost meanwhile\n"
        )
        stream.flush()

    def pipeline(self, transaction: bool = True) -> Any:
        """A pipeline (MULTI/EXEC when `transaction`) on the client."""
        return self.client.pipeline(transaction=transaction)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()
