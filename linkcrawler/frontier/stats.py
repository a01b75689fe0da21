"""A crawl's health as the operator sees it: what is queued on how many sites, leased, fetched, and who works.

Read from Redis only (the frontier, the lease hash, the pages-per-minute
hash and the heartbeat hash), so `linkcrawler stats` works from any machine
that can reach Redis, while the crawl runs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from linkcrawler.frontier import keys
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.workers import WorkerRegistry, minute_of

STALE_HEARTBEAT_SECONDS = 10.0
"""A worker silent for this long is reported stale: probably dead (its leases come back after LEASE_SECONDS)."""


@dataclass
class WorkerHealth:
    worker: str
    heartbeat_age: float
    pages: int
    stale: bool


@dataclass
class CrawlHealth:
    """`sites_queued` have requests waiting; `sites_ready` of them may be fetched now, the others wait for a
    delay to pass or a slot to free."""

    frontier: int
    sites_queued: int
    sites_ready: int
    start_urls: int
    leased: int
    pages_last_minute: int
    pages_this_minute: int
    workers: list[WorkerHealth] = field(default_factory=list)

    @property
    def live_workers(self) -> int:
        return sum(not w.stale for w in self.workers)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "live_workers": self.live_workers}


def crawl_health(server: Any, spider: str = keys.SPIDER_NAME, now: float | None = None) -> CrawlHealth:
    """One consistent-enough snapshot: one pipeline for the counters of every partition, one for the sites
    ready (by the Redis clock), one for the workers."""
    now = time.time() if now is None else now
    minute = minute_of(now)
    partitions = Partitions.of_crawl(server, spider)
    heaps = partitions.keys(keys.SITES)
    with server.pipeline(transaction=False) as pipe:
        pipe.llen(keys.spider_key(keys.START_URLS_KEY, spider))
        pipe.hmget(keys.spider_key(keys.PAGES_PER_MINUTE_KEY, spider), [str(minute - 1), str(minute)])
        for n in partitions:
            pipe.get(partitions.key(n, keys.QUEUED))
            pipe.zcard(heaps[n])
            pipe.hlen(partitions.key(n, keys.LEASES))
        start_urls, (last, current), *counts = pipe.execute()
    clock = redis_time(server)
    with server.pipeline(transaction=False) as pipe:
        for heap in heaps:
            pipe.zcount(heap, "-inf", clock)
        sites_ready = sum(pipe.execute())
    states = WorkerRegistry(server, keys.spider_key(keys.WORKERS_KEY, spider)).states()
    workers = [
        WorkerHealth(s.worker, round(now - s.heartbeat, 1), s.pages, now - s.heartbeat > STALE_HEARTBEAT_SECONDS)
        for s in sorted(states, key=lambda s: s.worker)
        if s.live
    ]
    frontier, sites_queued, leased = (sum(int(value or 0) for value in counts[i::3]) for i in range(3))
    return CrawlHealth(frontier, sites_queued, sites_ready, start_urls, leased, int(last or 0), int(current or 0),
                       workers)  # fmt: skip


def pages_per_minute(server: Any, minutes: int, spider: str = keys.SPIDER_NAME) -> list[tuple[int, int]]:
    """(minute since the epoch, pages fetched in it) for the last `minutes` minutes, oldest first, the current
    unfinished minute last: what the workers' heartbeats add up (`PAGES_PER_MINUTE_KEPT` minutes are kept), by
    their clocks, as `crawl_health` reads them."""
    last = minute_of(time.time())
    chosen = list(range(last - minutes + 1, last + 1))
    counts = server.hmget(keys.spider_key(keys.PAGES_PER_MINUTE_KEY, spider), [str(minute) for minute in chosen])
    return [(minute, int(count or 0)) for minute, count in zip(chosen, counts, strict=True)]


def redis_time(server: Any) -> float:
    """The Redis clock, as the frontier's scripts read it; a cluster client asks one node."""
    reply = server.time()
    seconds, micros = next(iter(reply.values())) if isinstance(reply, dict) else reply
    return seconds + micros / 1_000_000
