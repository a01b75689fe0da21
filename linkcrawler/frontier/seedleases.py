"""Seeds a worker took from the start list, held until they are on the frontier.

A worker moves a batch from the start list (`backlinks:start_urls`) to a
list of its own (`{backlinks:start_urls}:seeds_taken:{worker}`, in the
start list's slot) in one script (`lua/take_seeds.lua`), queues them on the
frontier, then deletes that list; a dead worker's list goes back to the head
of the start list (`lua/requeue_seeds.lua`; its deadline is in
`{backlinks:start_urls}:seed_holders`, renewed with its leases, see
`linkcrawler.frontier.leases`).
"""

from __future__ import annotations

import time
from typing import Any

from linkcrawler.frontier import keys, scripts
from linkcrawler.frontier.roundtrips import Call


class SeedLeases:
    """One worker's hold on the seeds it took: take, done, renew, recover the dead's."""

    def __init__(self, server: Any, spider: str, worker: str, lease_seconds: float) -> None:
        self.server = server
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.start_key = keys.spider_key(keys.START_URLS_KEY, spider)
        self.seeds_key = keys.spider_key(keys.SEEDS_TAKEN_KEY, spider)
        self.holders_key = keys.spider_key(keys.SEED_HOLDERS_KEY, spider)
        self.taken_key = f"{self.seeds_key}:{worker}"
        self._take = scripts.register(server, "take_seeds")
        self._requeue = scripts.register(server, "requeue_seeds")

    def take(self, count: int) -> list[bytes]:
        """Up to `count` seeds from the head of the start list, held in this worker's seed list until `queued`;
        after a failed attempt, the seeds that attempt took."""
        seed_keys = (self.start_key, self.taken_key, self.holders_key)
        return self._take(keys=seed_keys, args=[count, time.time() + self.lease_seconds, self.worker])

    def queued(self) -> None:
        """The seeds taken are on the frontier now: nothing to give back if this worker dies."""
        self.server.delete(self.taken_key)

    def renew_in(self, pipe: Any, deadline: float) -> None:
        """Keep the seeds this worker took until `deadline`: one ZADD, in `pipe`."""
        pipe.zadd(self.holders_key, {self.worker: deadline})

    def requeue_expired_call(self, now: float) -> Call:
        """The seeds taken by workers past their deadline back to the head of the start list; replies how many."""
        return Call(self._requeue, [self.start_key, self.holders_key, self.seeds_key], [now])
