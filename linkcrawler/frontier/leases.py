"""Leases on popped requests, so a worker that dies loses nothing.

Stock scrapy-redis removes a request from the frontier when a worker pops it:
if that worker is killed, every request it held (in the downloader, in the
scraper, in the store's unflushed batch) is gone. Here a pop moves the
request, in one Lua script, from its site's queue into the lease hash
(`backlinks:leases`, field `{worker}#{n}`, value `{site}|{score}|{request}`;
see `linkcrawler.frontier.sites` for what a pop hands out), and
the worker's lease deadline (`backlinks:lease_holders`, a sorted set of
worker -> expiry) is pushed forward at every heartbeat. The lease is
acknowledged (deleted) only once the page's records are stored or its final
failure is handled. Any worker finding a holder past its deadline moves that
holder's leases back to their sites' queues, and frees their sites' slots,
again in one script.

Renewal is per worker, not per request: a live worker keeps all its leases
with one ZADD per heartbeat, however long a download takes, and a dead one
loses them all `LEASE_SECONDS` after its last heartbeat. The price of a
crash is a refetch of what the dead worker held, never a lost page.

Seeds are taken the same way: a worker moves a batch from the start list
(`backlinks:start_urls`) to a list of its own (`backlinks:seeds_taken:{worker}`)
in one script, queues them on the frontier, then deletes that list; a dead
worker's list goes back to the head of the start list with its leases.

The scripts build the `{worker}#` prefixes, the workers' seed lists' and the
sites' key names themselves, so they assume one Redis, which is how the
frontier is deployed.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any

from linkcrawler.frontier import keys
from linkcrawler.frontier.sites import POP, RELEASE_SLOT, SITE_LUA

LEASE_META = "lease"
"""`request.meta` key holding the lease id of a request popped from the frontier."""

request_done = object()
"""Signal `(leases: list[str])`: these requests are fully processed; send with `crawler.signals`."""

_TAKE_SEEDS = """
local taken = redis.call('lrange', KEYS[2], 0, -1)
if #taken == 0 then
  taken = redis.call('lpop', KEYS[1], ARGV[1])
  if not taken then return {} end
  redis.call('rpush', KEYS[2], unpack(taken))
end
redis.call('zadd', KEYS[3], ARGV[2], ARGV[3])
return taken
"""
"""Move up to ARGV[1] seeds from the start list to this worker's list, unless that list still holds seeds a
failed attempt took: then those again."""

_REQUEUE_EXPIRED = """
local expired = redis.call('zrangebyscore', KEYS[3], '-inf', ARGV[1])
if #expired == 0 then return 0 end
local dead = {}
local moved = 0
for _, holder in ipairs(expired) do
  dead[holder] = true
  redis.call('zrem', KEYS[3], holder)
  while redis.call('lmove', KEYS[5] .. ':' .. holder, KEYS[4], 'RIGHT', 'LEFT') do moved = moved + 1 end
end
local leases = redis.call('hkeys', KEYS[2])
for _, lease in ipairs(leases) do
  local holder = string.match(lease, '^(.*)#')
  if holder and dead[holder] then moved = moved + give_back(ARGV[2], KEYS[1], KEYS[2], lease) end
end
return moved
"""

_REQUEUE_ONE = "return give_back(ARGV[2], KEYS[1], KEYS[2], ARGV[1])"

_ACK = """
for i = 3, #ARGV do
  local value = redis.call('hget', KEYS[2], ARGV[i])
  if value then
    local site = lease_parts(value)
    release_slot(ARGV[1], KEYS[1], KEYS[3], KEYS[4], site, ARGV[i], ARGV[2])
    redis.call('hdel', KEYS[2], ARGV[i])
  end
end
return 1
"""


class Leases:
    """One worker's view of the lease hash: pop with a lease, acknowledge, renew, recover the dead's.

    `politeness` is (concurrency per site, 0 for none; default delay; seconds
    a slot outlives a dead worker), as `linkcrawler.frontier.sites` applies it.
    """

    def __init__(self, server: Any, prefix: str, leases_key: str, holders_key: str, worker: str,
                 lease_seconds: float, start_key: str, seeds_key: str,
                 politeness: tuple[int, float, float] = (0, 0.0, 60.0)) -> None:  # fmt: skip
        self.server = server
        self.prefix = prefix
        self.sites_key = keys.spider_key(keys.SITES_KEY, prefix)
        self.site_keys = (keys.spider_key(keys.SITE_LAST_KEY, prefix), keys.spider_key(keys.SITE_DELAY_KEY, prefix))
        self.politeness = politeness
        self.queued_key = keys.spider_key(keys.QUEUED_KEY, prefix)
        self.keys = (self.sites_key, leases_key, holders_key)
        self.leases_key = leases_key
        self.holders_key = holders_key
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.start_key = start_key
        self.seeds_key = seeds_key
        self.taken_key = f"{seeds_key}:{worker}"
        self._ids = itertools.count(1)
        self.held: set[str] = set()
        self._pop = server.register_script(SITE_LUA + POP)
        self._ack = server.register_script(SITE_LUA + RELEASE_SLOT + _ACK)
        self._take_seeds = server.register_script(_TAKE_SEEDS)
        self._requeue = server.register_script(SITE_LUA + _REQUEUE_EXPIRED)
        self._requeue_one = server.register_script(SITE_LUA + _REQUEUE_ONE)

    def pop(self, count: int = 1) -> tuple[list[tuple[str, bytes]], float | None]:
        """Up to `count` requests that may start now, from the sites that are ready, now leased to this worker:
        `(lease id, encoded request)` pairs; and the seconds until the next site may be ready (None: the
        frontier is empty).

        Idempotent per lease id: when Redis ran the script but its reply was
        lost (a restart, a dropped connection), the client's retry gets the
        requests already leased under those ids, instead of popping more over
        them (which overwrote the first and lost it).
        """
        leased, wait = self.pop_as([f"{self.worker}#{next(self._ids)}" for _ in range(count)])
        self.held.update(lease for lease, _ in leased)
        return leased, wait

    def pop_as(self, ids: list[str]) -> tuple[list[tuple[str, bytes]], float | None]:
        """`pop` under the lease ids given; what it leases is not yet recorded as received (`held`)."""
        args = [time.time() + self.lease_seconds, self.worker, self.prefix, *self.politeness, *ids]
        popped, wait = self._pop(keys=(*self.keys, *self.site_keys), args=args)
        # The script leases under the ids in order until no site is ready: `popped` may be shorter.
        leased = list(zip(ids, popped, strict=False))
        seconds = float(wait)
        return leased, None if seconds < 0 else seconds

    def ack(self, leases: Iterable[str]) -> None:
        """Done with these requests; unknown ids (already recovered by another worker) are ignored.

        A slot still held under one (a request dropped before it reached the
        downloader, such as a robots.txt refusal) is freed with it.
        """
        ids = list(leases)
        if ids:
            self._ack(keys=(*self.keys[:2], *self.site_keys), args=[self.prefix, self.politeness[1], *ids])
            self.held.difference_update(ids)

    def take_seeds(self, count: int) -> list[bytes]:
        """Up to `count` seeds from the head of the start list, held in this worker's seed list until
        `seeds_queued`; after a failed attempt, the seeds that attempt took."""
        keys = (self.start_key, self.taken_key, self.holders_key)
        return self._take_seeds(keys=keys, args=[count, time.time() + self.lease_seconds, self.worker])

    def seeds_queued(self) -> None:
        """The seeds taken are on the frontier now: nothing to give back if this worker dies."""
        self.server.delete(self.taken_key)

    def renew(self) -> None:
        """Keep every lease of this worker for another `lease_seconds` (called at each heartbeat)."""
        self.server.zadd(self.holders_key, {self.worker: time.time() + self.lease_seconds})

    def requeue_expired(self, now: float | None = None) -> int:
        """Put the leases of workers past their deadline back on the frontier, and the seeds they took back
        at the head of the start list; how many of both moved."""
        keys = (*self.keys, self.start_key, self.seeds_key)
        return int(self._requeue(keys=keys, args=[time.time() if now is None else now, self.prefix]))

    def requeue_orphans(self) -> int:
        """Put back leases Redis says this worker holds but the worker never received.

        That happens when Redis ran a pop but the client gave up before its
        reply came (retries exhausted through a long outage): the lease would
        stay held by a live worker, renewed, forever.
        """
        orphans = [
            field
            for field, _ in self.server.hscan_iter(self.leases_key, match=f"{self.worker}#*")
            if (field.decode() if isinstance(field, bytes) else field) not in self.held
        ]
        return sum(int(self._requeue_one(keys=self.keys, args=[field, self.prefix])) for field in orphans)

    def release(self) -> int:
        """Return this worker's remaining leases to the frontier now (a clean shutdown)."""
        self.server.zadd(self.holders_key, {self.worker: 0})
        return self.requeue_expired(now=0)
