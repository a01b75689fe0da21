"""Worker heartbeats in Redis: who is crawling, and who did something recently.

Each worker writes one hash field, `{host}:{pid}` -> JSON, about once a second,
and a last one when it stops (`left` set), so a run's page count survives its
workers. Idle workers read it to decide whether the crawl is over (nobody has
fetched anything for a while and the frontier is empty), and operators read
it to see live workers. A new crawl run clears it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class WorkerState:
    worker: str
    heartbeat: float
    last_active: float
    pages: int
    left: float | None = None

    @property
    def live(self) -> bool:
        return self.left is None


PAGES_PER_MINUTE_KEPT = 120
"""Minutes of page counts kept in the pages-per-minute hash."""


def minute_of(timestamp: float) -> int:
    """The bucket (whole minutes since the epoch) a page fetched at `timestamp` is counted in."""
    return int(timestamp // 60)


class WorkerRegistry:
    """The heartbeat hash of one spider's workers, and the crawl's pages per minute.

    With `pages_key`, each beat adds the pages fetched since the previous one
    to that minute's field of a hash (field: `minute_of(time)`), so the
    crawl rate costs one command per worker per heartbeat, not per page.
    """

    def __init__(self, server: Any, key: str, worker: str | None = None, pages_key: str | None = None) -> None:
        self.server = server
        self.key = key
        self.worker = worker or worker_id()
        self.pages_key = pages_key
        self._pages_counted = 0

    def beat(self, last_active: float, pages: int, left: bool = False) -> None:
        now = time.time()
        state = {"heartbeat": now, "last_active": last_active, "pages": pages, "left": now if left else None}
        with self.server.pipeline(transaction=False) as pipe:
            pipe.hset(self.key, self.worker, json.dumps(state))
            if self.pages_key is not None and pages > self._pages_counted:
                minute = minute_of(now)
                pipe.hincrby(self.pages_key, str(minute), pages - self._pages_counted)
                pipe.hdel(self.pages_key, str(minute - PAGES_PER_MINUTE_KEPT))
            pipe.execute()
        self._pages_counted = pages

    def states(self) -> list[WorkerState]:
        return [
            WorkerState(name.decode() if isinstance(name, bytes) else name, **json.loads(raw))
            for name, raw in self.server.hgetall(self.key).items()
        ]

    def others_active_since(self, since: float) -> bool:
        """True if another worker fetched something at or after `since` (a wall-clock time)."""
        return any(s.worker != self.worker and s.last_active >= since for s in self.states())
