"""Wall-clock time as Redis tells it: the one clock every worker shares.

Pages and links are dated by the worker that fetched them (`fetched_at`,
`first_seen`, `last_seen`), and the store keeps the latest of those dates
with `$max`: a worker whose clock ran ahead would leave dates in the future
that no correct date could replace, and a slow one would date its fetches
behind the others'. So workers date what they fetch by Redis's clock, which
the frontier already runs on (its politeness scripts read `TIME`): each
worker measures its own clock's offset to Redis's when it opens and at every
heartbeat, and adds it to its own clock's reading. The error is about half a
round trip to Redis plus the drift between two heartbeats: milliseconds. In
a Redis Cluster the clock read is that of the node the script runs on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from linkcrawler.frontier import scripts


class SharedClock:
    """This worker's clock, set to Redis's by `sync`; until the first `sync`, the worker's own."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.offset = 0.0
        self._time = scripts.register(server, "clock")

    def sync(self) -> float:
        """Measure how far Redis's clock is ahead of this worker's (one round trip); the offset in seconds."""
        before = time.time()
        seconds, microseconds = self._time()
        after = time.time()
        self.offset = int(seconds) + int(microseconds) / 1_000_000 - (before + after) / 2
        return self.offset

    def now(self) -> datetime:
        """The time now, by Redis's clock."""
        return datetime.fromtimestamp(time.time() + self.offset, UTC)
