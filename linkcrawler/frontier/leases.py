"""Leases on popped requests, so a worker that dies loses nothing.

Stock scrapy-redis removes a request from the frontier when a worker pops it:
if that worker is killed, every request it held (in the downloader, in the
scraper, in the store's unflushed batch) is gone. Here a pop moves the
request, in one Lua script (`lua/pop.lua`), from its site's queue into the
lease hash of its partition (`{prefix}:leases`, field `{worker}#{n}`, value
`{site}|{score}|{request}`; see `linkcrawler.frontier.sites` for what a pop
hands out, `linkcrawler.frontier.partitions` for the partitions and
`linkcrawler.frontier.popping` for how a worker shares a pop out over them),
and the worker's lease deadline (`{prefix}:lease_holders` in every
partition, a sorted set of worker -> expiry) is pushed forward at every
heartbeat. The lease is acknowledged (deleted) only once the page's records
are stored or its final failure is handled. Any worker finding a holder past
its deadline moves that holder's leases back to their sites' queues, and
frees their sites' slots, again in one script.

Renewal is per worker, not per request: a live worker keeps all its leases
with one ZADD per heartbeat, however long a download takes, and a dead one
loses them all `LEASE_SECONDS` after its last heartbeat. The price of a
crash is a refetch of what the dead worker held, never a lost page.

Seeds a worker takes are held the same way (`linkcrawler.frontier.seedleases`).
The scripts build the `{worker}#` prefixes and the sites' key names
themselves, each within one partition's hash slot.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from linkcrawler.frontier import keys, scripts
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.roundtrips import Call, run_scripts
from linkcrawler.frontier.sites import PopLimits

LEASE_META = "lease"
"""`request.meta` key holding the lease id of a request popped from the frontier."""

request_done = object()
"""Signal `(leases: list[str])`: these requests are fully processed; send with `crawler.signals`."""

NO_LIMITS = PopLimits(concurrency=0, delay=0.0, slot_seconds=60.0)
"""A pop's limits without politeness: every ready site served, as often as it is ready."""


class Leased(NamedTuple):
    """A request a pop leased to this worker."""

    lease: str
    site: str
    """The site whose queue it waited in."""
    score: float
    """Its score there: minus its priority."""
    request: bytes
    """As the frontier stores it (`linkcrawler.frontier.serializer`)."""

    @classmethod
    def of(cls, lease: str, value: bytes) -> Leased:
        """A lease from its id and its value in the leases hash, `site|score|request`."""
        site, score, request = value.split(b"|", 2)
        return cls(lease, site.decode(), float(score), request)


class PopReply(NamedTuple):
    """What `lua/pop.lua` replies for one partition."""

    requests: list[bytes]
    """The values of the leases taken (`Leased.of`), in the order of the lease ids asked with, until no site was
    ready."""
    wait: float
    """Seconds until the partition's next site may be ready, -1 when it has none queued."""
    run: bytes
    """The partition's run count (`keys.RUN`)."""

    @classmethod
    def of(cls, reply: list[Any]) -> PopReply:
        requests, wait, run = reply
        return cls(requests, float(wait), run)


class Leases:
    """One worker's leases in every partition: pop under them, acknowledge, renew, recover the dead's.

    `limits` are what a pop applies to each site (`linkcrawler.frontier.sites`).
    Each lease is remembered with its partition, for its acknowledgement;
    `held` are the leases this worker received.
    """

    def __init__(self, server: Any, partitions: Partitions, worker: str, lease_seconds: float,
                 limits: PopLimits = NO_LIMITS) -> None:  # fmt: skip
        self.server = server
        self.partitions = partitions
        self.limits = limits
        self.worker = worker
        self.lease_seconds = lease_seconds
        self._ids = itertools.count(1)
        self.held: set[str] = set()
        self.partition_of: dict[str, int] = {}
        self._pop = scripts.register(server, "pop")
        self._ack = scripts.register(server, "ack")
        self._requeue = scripts.register(server, "requeue_expired")
        self._requeue_one = scripts.register(server, "requeue_one")

    def _keys(self, n: int, *names: str) -> list[str]:
        return [self.partitions.key(n, name) for name in names]

    def new_ids(self, count: int) -> list[str]:
        """Lease ids never used by this worker: a pop retried under the same ids gets what it leased."""
        return [f"{self.worker}#{next(self._ids)}" for _ in range(count)]

    def pop_call(self, n: int, ids: list[str]) -> Call:
        """Pop from partition `n` under `ids` (`lua/pop.lua`); its reply is read by `PopReply.of`."""
        limits = self.limits
        args = [time.time() + self.lease_seconds, self.worker, self.partitions.prefix(n),
                limits.concurrency, limits.delay, limits.slot_seconds, *ids]  # fmt: skip
        return Call(self._pop, self._keys(n, keys.SITES, keys.LEASES, keys.LEASE_HOLDERS), args)

    def leased_in(self, n: int, leased: list[Leased]) -> None:
        """These leases were taken in partition `n`: their acknowledgement goes there."""
        self.partition_of.update((popped.lease, n) for popped in leased)

    def received(self, leased: list[Leased]) -> None:
        """This worker has these requests: their leases are not orphans (`requeue_orphans`)."""
        self.held.update(popped.lease for popped in leased)

    def ack(self, leases: Iterable[str]) -> None:
        """Done with these requests; unknown ids (already recovered by another worker) are ignored.

        A slot still held under one (a request dropped before it reached the
        downloader, such as a robots.txt refusal) is freed with it. One
        script per partition, all in one pipeline.
        """
        ids = list(leases)
        if not ids:
            return
        by_partition: dict[int, list[str]] = {}
        for lease in ids:
            for n in [self.partition_of[lease]] if lease in self.partition_of else self.partitions:
                by_partition.setdefault(n, []).append(lease)
        calls = [
            Call(
                self._ack,
                self._keys(n, keys.SITES, keys.LEASES),
                [self.partitions.prefix(n), self.limits.delay, *group],
            )
            for n, group in by_partition.items()
        ]
        run_scripts(self.server, calls)
        self.held.difference_update(ids)
        for lease in ids:
            self.partition_of.pop(lease, None)

    def renew_in(self, pipe: Any, deadline: float) -> None:
        """Keep every lease of this worker until `deadline`, in every partition: one ZADD each, in `pipe`."""
        for key in self.partitions.keys(keys.LEASE_HOLDERS):
            pipe.zadd(key, {self.worker: deadline})

    def requeue_expired_calls(self, now: float) -> list[Call]:
        """Put the leases of workers past their deadline back on the frontier: one script per partition, in the
        partitions' order, each replying how many it moved."""
        return [
            Call(self._requeue, self._keys(n, keys.SITES, keys.LEASES, keys.LEASE_HOLDERS),
                 [now, self.partitions.prefix(n), self.limits.delay])
            for n in self.partitions
        ]  # fmt: skip

    def requeue_orphans(self) -> dict[int, int]:
        """Put back leases Redis says this worker holds but the worker never received; how many per partition.

        That happens when Redis ran a pop but the client gave up before its
        reply came (retries exhausted through a long outage): the lease would
        stay held by a live worker, renewed, forever.
        """
        moved: dict[int, int] = {}
        for n in self.partitions:
            sites_key, leases_key = self._keys(n, keys.SITES, keys.LEASES)
            orphans = [
                field
                for field, _ in self.server.hscan_iter(leases_key, match=f"{self.worker}#*")
                if (field.decode() if isinstance(field, bytes) else field) not in self.held
            ]
            prefix = self.partitions.prefix(n)
            if orphans:
                moved[n] = sum(
                    int(self._requeue_one(keys=[sites_key, leases_key], args=[field, prefix, self.limits.delay]))
                    for field in orphans
                )
        return moved

    def leased(self) -> int:
        """Requests leased by all workers together."""
        return self.partitions.sizes(self.server, keys.LEASES, "hlen")
