"""Leases on popped requests, so a worker that dies loses nothing.

Stock scrapy-redis removes a request from the frontier when a worker pops it:
if that worker is killed, every request it held (in the downloader, in the
scraper, in the store's unflushed batch) is gone. Here a pop moves the
request, in one Lua script, from its site's queue into the lease hash of
its partition (`{prefix}:leases`, field `{worker}#{n}`, value
`{site}|{score}|{request}`; see `linkcrawler.frontier.sites` for what a pop
hands out and `linkcrawler.frontier.partitions` for the partitions), and
the worker's lease deadline (`{prefix}:lease_holders` in every partition, a
sorted set of worker -> expiry) is pushed forward at every heartbeat. The lease is
acknowledged (deleted) only once the page's records are stored or its final
failure is handled. Any worker finding a holder past its deadline moves that
holder's leases back to their sites' queues, and frees their sites' slots,
again in one script.

Renewal is per worker, not per request: a live worker keeps all its leases
with one ZADD per heartbeat, however long a download takes, and a dead one
loses them all `LEASE_SECONDS` after its last heartbeat. The price of a
crash is a refetch of what the dead worker held, never a lost page.

Seeds are taken the same way: a worker moves a batch from the start list
(`backlinks:start_urls`) to a list of its own
(`{backlinks:start_urls}:seeds_taken:{worker}`, in the start list's slot) in
one script, queues them on the frontier, then deletes that list; a dead
worker's list goes back to the head of the start list (its deadline is in
`{backlinks:start_urls}:seed_holders`).

The scripts build the `{worker}#` prefixes, the workers' seed lists' and the
sites' key names themselves, each within one partition's (or the start
list's) hash slot.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable
from itertools import zip_longest
from typing import Any, NamedTuple

from linkcrawler.frontier import keys, scripts
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.roundtrips import Call, Outbox, run_scripts
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
    request: bytes
    """As the frontier stores it (`linkcrawler.frontier.serializer`)."""


class PopReply(NamedTuple):
    """What `lua/pop.lua` replies for one partition."""

    requests: list[bytes]
    """Leased in the order of the lease ids asked with, until no site was ready."""
    wait: float
    """Seconds until the partition's next site may be ready, -1 when it has none queued."""
    run: bytes
    """The partition's run count (`keys.RUN`)."""

    @classmethod
    def of(cls, reply: list[Any]) -> PopReply:
        requests, wait, run = reply
        return cls(requests, float(wait), run)


class Leases:
    """One worker's view of the lease hashes: pop with a lease, acknowledge, renew, recover the dead's.

    `limits` are what a pop applies to each site (`linkcrawler.frontier.sites`).
    A pop visits the partitions in turn (see `pop_as`); each lease is
    remembered with its partition, for its acknowledgement.
    """

    def __init__(self, server: Any, partitions: Partitions, worker: str, lease_seconds: float,
                 limits: PopLimits = NO_LIMITS, idle_seconds: float = 1.0) -> None:  # fmt: skip
        self.server = server
        self.partitions = partitions
        self.limits = limits
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.idle_seconds = idle_seconds
        spider = partitions.spider
        self.start_key = keys.spider_key(keys.START_URLS_KEY, spider)
        self.seeds_key = keys.spider_key(keys.SEEDS_TAKEN_KEY, spider)
        self.seed_holders_key = keys.spider_key(keys.SEED_HOLDERS_KEY, spider)
        self.taken_key = f"{self.seeds_key}:{worker}"
        self._ids = itertools.count(1)
        self.held: set[str] = set()
        self.partition_of: dict[str, int] = {}
        self._backlog = [0] * partitions.count
        self._credit = [0] * partitions.count
        self._runs: list[bytes] | None = None
        self.new_runs = 0
        self.outbox = Outbox(server)
        self._pop = scripts.register(server, "pop")
        self._ack = scripts.register(server, "ack")
        self._take_seeds = scripts.register(server, "take_seeds")
        self._requeue_seeds = scripts.register(server, "requeue_seeds")
        self._requeue = scripts.register(server, "requeue_expired")
        self._requeue_one = scripts.register(server, "requeue_one")

    def _keys(self, n: int, *names: str) -> list[str]:
        return [self.partitions.key(n, name) for name in names]

    def pop(self, count: int = 1) -> tuple[list[Leased], float | None]:
        """Up to `count` requests that may start now, from the sites that are ready, now leased to this worker:
        `(lease id, encoded request)` pairs; and the seconds until the next site may be ready (None: the
        frontier is empty).

        Idempotent per lease id: when Redis ran the script but its reply was
        lost (a restart, a dropped connection), the client's retry gets the
        requests already leased under those ids, instead of popping more over
        them (which overwrote the first and lost it).
        """
        leased, wait = self.pop_as([f"{self.worker}#{next(self._ids)}" for _ in range(count)])
        self.held.update(leased_one.lease for leased_one in leased)
        return leased, wait

    def pop_as(self, ids: list[str]) -> tuple[list[Leased], float | None]:
        """`pop` under the lease ids given; what it leases is not yet recorded as received (`held`).

        The ids are shared out over the partitions that have requests queued
        (as the last heartbeat or pop counted them, or that this worker
        queued into since) in proportion to how many each holds (`_plan`),
        and the pops of all of them are sent in one pipeline; their requests
        are handed out interleaved, so consecutive requests come from
        different partitions' sites. If some came back short, the ids left
        go to the partitions not asked yet, biggest first, then to those that
        gave all they were asked, until none is left or none gives more; if
        that gave nothing, the partitions are counted again (other workers
        queue meanwhile) and those found are asked. The seconds until the
        next site may be ready are the least over the partitions asked.
        What `outbox` carries (links to queue, slots to free) goes first,
        in the first pipeline.
        """
        retried = self.partition_of.get(ids[0]) if ids else None  # a retry: first where it leased
        candidates = [n for n in self.partitions if self._backlog[n] or n == retried]
        leased, waits = self._pop_from(self._plan(candidates, len(ids), retried), ids)
        if not leased:  # other workers may have queued since the last heartbeat: look at every partition
            self.outbox.run([])  # if no pop carried them (none to ask), what this worker queued counts too
            self._see_sites()
            candidates = [n for n in self.partitions if self._backlog[n]]
            more, also = self._pop_from(self._plan(candidates, len(ids), None), ids)
            leased, waits = more, waits + also
        return leased, min(waits, default=None)

    def _plan(self, candidates: list[int], wanted: int, first: int | None) -> list[int]:
        """The partitions to ask, in order, one entry per id: by smooth weighted round robin over the
        partitions' backlogs (queued requests), so a partition holding twice the work is asked twice as often,
        as one heap would start the biggest backlogs first; `first` (a retry) leads."""
        if not candidates:
            return []
        weights = {n: max(1, self._backlog[n]) for n in candidates}
        total = sum(weights.values())
        plan = [first] if first is not None else []
        while len(plan) < wanted:
            for n in candidates:
                self._credit[n] += weights[n]
            best = max(candidates, key=self._credit.__getitem__)
            self._credit[best] -= total
            plan.append(best)
        return plan + sorted(set(candidates) - set(plan), key=weights.__getitem__, reverse=True)

    def _pop_from(self, plan: list[int], ids: list[str]) -> tuple[list[Leased], list[float]]:
        """Pop under `ids` as `plan` says (its first `len(ids)` entries: one id each; the others: partitions to
        ask if those come back short), as `pop_as` says; the requests and each partition's wait."""
        first_round = plan[: len(ids)]
        asked_first = list(dict.fromkeys(first_round))
        untried, full = deque(n for n in dict.fromkeys(plan) if n not in asked_first), deque()
        leased: list[Leased] = []
        waits: list[float] = []
        pending = list(ids)
        while pending and (asked_first or untried or full):
            if asked_first:
                pool, asked = None, asked_first
                shares = [first_round.count(n) for n in asked]
                asked_first = []
            else:
                pool = untried or full
                asked = [pool.popleft() for _ in range(min(len(pool), len(pending)))]
                shares = [len(pending) // len(asked) + (i < len(pending) % len(asked)) for i in range(len(asked))]
            chunks = [pending[sum(shares[:i]) : sum(shares[: i + 1])] for i in range(len(asked))]
            calls = [self._pop_call(n, chunk) for n, chunk in zip(asked, chunks, strict=True)]
            got: list[list[Leased]] = []
            for n, chunk, reply in zip(asked, chunks, self.outbox.run(calls), strict=True):
                popped = PopReply.of(reply)
                self._see_run(n, popped.run)
                if popped.wait < 0:
                    self._backlog[n] = 0
                else:
                    waits.append(popped.wait)
                    self._backlog[n] = max(1, self._backlog[n] - len(popped.requests))
                got.append([Leased(*pair) for pair in zip(chunk, popped.requests, strict=False)])
                self.partition_of.update((leased_one.lease, n) for leased_one in got[-1])
                if len(popped.requests) == len(chunk):
                    full.append(n)
            round_leased = [pair for pairs in zip_longest(*got) for pair in pairs if pair is not None]
            if not round_leased and pool is full:
                break
            leased += round_leased
            taken = {leased_one.lease for leased_one in round_leased}
            pending = [lease for lease in pending if lease not in taken]
        return leased, waits

    def see_runs(self) -> None:
        """Read every partition's run count (`keys.RUN`): from then on, `new_runs` counts the changes pops
        report. One pipeline."""
        runs = [run or b"0" for run in self.partitions.values(self.server, keys.RUN)]
        if self._runs is not None and runs != self._runs:
            self.new_runs += 1
        self._runs = runs

    def _see_run(self, n: int, run: bytes) -> None:
        if self._runs is not None and self._runs[n] != run:
            self._runs[n] = run
            self.new_runs += 1

    def _see_sites(self) -> None:
        """How many requests each partition holds queued: one pipeline."""
        self._backlog = [int(queued or 0) for queued in self.partitions.values(self.server, keys.QUEUED)]

    def _pop_call(self, n: int, ids: list[str]) -> Call:
        limits = self.limits
        args = [time.time() + self.lease_seconds, self.worker, self.partitions.prefix(n),
                limits.concurrency, limits.delay, limits.slot_seconds, *ids]  # fmt: skip
        return Call(self._pop, self._keys(n, keys.SITES, keys.LEASES, keys.LEASE_HOLDERS), args)

    def wake(self, partitions: Iterable[int]) -> None:
        """This worker queued links into these partitions, or gave requests back there: the next pop looks there
        too."""
        for n in partitions:
            self._backlog[n] = max(1, self._backlog[n])

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

    def take_seeds(self, count: int) -> list[bytes]:
        """Up to `count` seeds from the head of the start list, held in this worker's seed list until
        `seeds_queued`; after a failed attempt, the seeds that attempt took."""
        seed_keys = (self.start_key, self.taken_key, self.seed_holders_key)
        return self._take_seeds(keys=seed_keys, args=[count, time.time() + self.lease_seconds, self.worker])

    def seeds_queued(self) -> None:
        """The seeds taken are on the frontier now: nothing to give back if this worker dies."""
        self.server.delete(self.taken_key)

    def renew(self) -> None:
        """Keep every lease of this worker for another `lease_seconds` (called at each heartbeat), in every
        partition and for the seeds it took, and see which partitions have sites queued: one pipeline."""
        deadline = {self.worker: time.time() + self.lease_seconds}
        with self.server.pipeline(transaction=False) as pipe:
            for key in [*self.partitions.keys(keys.LEASE_HOLDERS), self.seed_holders_key]:
                pipe.zadd(key, deadline)
            for key in self.partitions.keys(keys.QUEUED):
                pipe.get(key)
            replies = pipe.execute()
        self._backlog = [int(queued or 0) for queued in replies[-self.partitions.count :]]

    def requeue_expired(self, now: float | None = None) -> int:
        """Put the leases of workers past their deadline back on the frontier, and the seeds they took back
        at the head of the start list; how many of both moved. One script per partition, in one pipeline."""
        now = time.time() if now is None else now
        calls = [
            Call(self._requeue, self._keys(n, keys.SITES, keys.LEASES, keys.LEASE_HOLDERS),
                 [now, self.partitions.prefix(n), self.limits.delay])
            for n in self.partitions
        ]  # fmt: skip
        calls.append(Call(self._requeue_seeds, [self.start_key, self.seed_holders_key, self.seeds_key], [now]))
        moved = [int(count) for count in run_scripts(self.server, calls)]
        self.wake(n for n in self.partitions if moved[n])
        return sum(moved)

    def requeue_orphans(self) -> int:
        """Put back leases Redis says this worker holds but the worker never received.

        That happens when Redis ran a pop but the client gave up before its
        reply came (retries exhausted through a long outage): the lease would
        stay held by a live worker, renewed, forever.
        """
        moved = 0
        for n in self.partitions:
            sites_key, leases_key = self._keys(n, keys.SITES, keys.LEASES)
            orphans = [
                field
                for field, _ in self.server.hscan_iter(leases_key, match=f"{self.worker}#*")
                if (field.decode() if isinstance(field, bytes) else field) not in self.held
            ]
            prefix = self.partitions.prefix(n)
            moved += sum(
                int(self._requeue_one(keys=[sites_key, leases_key], args=[field, prefix, self.limits.delay]))
                for field in orphans
            )
            if orphans:
                self.wake([n])
        return moved

    def leased(self) -> int:
        """Requests leased by all workers together."""
        return self.partitions.sizes(self.server, keys.LEASES, "hlen")

    def release(self) -> int:
        """Return this worker's remaining leases to the frontier now (a clean shutdown)."""
        with self.server.pipeline(transaction=False) as pipe:
            for key in [*self.partitions.keys(keys.LEASE_HOLDERS), self.seed_holders_key]:
                pipe.zadd(key, {self.worker: 0})
            pipe.execute()
        return self.requeue_expired(now=0)
