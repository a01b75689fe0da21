"""Sharing a pop out over the frontier's partitions: which partitions a worker asks, for how many requests each.

Each partition keeps its own heap of sites (`linkcrawler.frontier.sites`),
so a worker asking for requests must choose where to ask. It keeps each
partition's backlog (its queued requests, as the last heartbeat or pop
counted them, or at least one where this worker queued links since) and
shares the lease ids out in proportion to the backlogs by smooth weighted
round robin, as one heap would start the biggest backlogs first; the pops
go in one pipeline, with what the outbox carries
(`linkcrawler.frontier.roundtrips.Outbox`) first. See docs/frontier.md,
"Redis Cluster", for what this costs against one heap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import zip_longest
from typing import Any

from linkcrawler.frontier import keys
from linkcrawler.frontier.leases import Leased, Leases, PopReply
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.roundtrips import Outbox
from linkcrawler.frontier.runs import CrawlRuns


class PopPlanner:
    """Pops for one worker across the partitions: under its `leases`, carrying its `outbox`, telling `runs`."""

    def __init__(self, server: Any, partitions: Partitions, leases: Leases, outbox: Outbox, runs: CrawlRuns) -> None:
        self.server = server
        self.partitions = partitions
        self.leases = leases
        self.outbox = outbox
        self.runs = runs
        self._backlog = [0] * partitions.count
        self._credit = [0] * partitions.count

    def pop(self, count: int = 1) -> tuple[list[Leased], float | None]:
        """Up to `count` requests that may start now, from the sites that are ready, now leased to this worker;
        and the seconds until the next site may be ready (None: the frontier is empty).

        Idempotent per lease id: when Redis ran the script but its reply was
        lost (a restart, a dropped connection), the client's retry gets the
        requests already leased under those ids, instead of popping more over
        them (which overwrote the first and lost it).
        """
        leased, wait = self.pop_as(self.leases.new_ids(count))
        self.leases.received(leased)
        return leased, wait

    def pop_as(self, ids: list[str]) -> tuple[list[Leased], float | None]:
        """`pop` under the lease ids given; what it leases is not yet recorded as received.

        The ids are shared out over the partitions that have requests queued
        in proportion to how many each holds (`_plan`), and the pops of all
        of them are sent in one pipeline; their requests are handed out
        interleaved, so consecutive requests come from different partitions'
        sites. If some came back short, the ids left go to the partitions not
        asked yet, biggest first, then to those that gave all they were
        asked, until none is left or none gives more; if that gave nothing,
        the partitions are counted again (other workers queue meanwhile) and
        those found are asked. The seconds until the next site may be ready
        are the least over the partitions asked. What the outbox carries
        (links to queue, slots to free) goes first, in the first pipeline.
        """
        retried = self.leases.partition_of.get(ids[0]) if ids else None  # a retry: first where it leased
        candidates = [n for n in self.partitions if self._backlog[n] or n == retried]
        leased, waits = self._pop_from(self._plan(candidates, len(ids), retried), ids)
        if not leased:  # other workers may have queued since the last heartbeat: look at every partition
            self.outbox.run([])  # if no pop carried them (none to ask), what this worker queued counts too
            self.count()
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
            calls = [self.leases.pop_call(n, chunk) for n, chunk in zip(asked, chunks, strict=True)]
            got: list[list[Leased]] = []
            for n, chunk, reply in zip(asked, chunks, self.outbox.run(calls), strict=True):
                popped = PopReply.of(reply)
                self.runs.saw(n, popped.run)
                if popped.wait < 0:
                    self._backlog[n] = 0
                else:
                    waits.append(popped.wait)
                    self._backlog[n] = max(1, self._backlog[n] - len(popped.requests))
                # leased in order until no site was ready
                got.append([Leased.of(*pair) for pair in zip(chunk, popped.requests, strict=False)])
                self.leases.leased_in(n, got[-1])
                if len(popped.requests) == len(chunk):
                    full.append(n)
            round_leased = [pair for pairs in zip_longest(*got) for pair in pairs if pair is not None]
            if not round_leased and pool is full:
                break
            leased += round_leased
            taken = {popped.lease for popped in round_leased}
            pending = [lease for lease in pending if lease not in taken]
        return leased, waits

    def wake(self, partitions: Iterable[int]) -> None:
        """This worker queued links into these partitions, or gave requests back there: the next pop looks there
        too."""
        for n in partitions:
            self._backlog[n] = max(1, self._backlog[n])

    def count(self) -> None:
        """How many requests each partition holds queued: one pipeline."""
        self._backlog = [int(queued or 0) for queued in self.partitions.values(self.server, keys.QUEUED)]

    def count_in(self, pipe: Any) -> None:
        """`count` in `pipe`, one GET per partition; `counted` reads the replies."""
        for key in self.partitions.keys(keys.QUEUED):
            pipe.get(key)

    def counted(self, replies: list[Any]) -> None:
        self._backlog = [int(queued or 0) for queued in replies]
