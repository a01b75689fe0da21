"""The frontier's partitions: groups of keys that one Lua script may touch together on a Redis Cluster.

Every script of the frontier (pop, acknowledge, release, queue links) must
touch keys of one hash slot on a cluster. So the frontier is split into
`FRONTIER_PARTITIONS` partitions, each with its own heap, site queues,
clocks, leases, seen-set and budgets, all named under one hash tag; a site
belongs to the partition of its registered domain. One server holds every
partition the same way. See docs/frontier.md, "Redis Cluster".
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.cluster import RedisCluster
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from linkcrawler import config
from linkcrawler.errors import UserError
from linkcrawler.extract.hosts import registered_domain

CLUSTER_PARTITIONS = 16
"""Partitions on a Redis Cluster unless `FRONTIER_PARTITIONS` says otherwise: enough to share three to five
primaries out within 1.25x of even (6/5/5 over three), few enough that a heartbeat's pipeline stays small."""


def automatic_count(cluster: bool) -> int:
    """One partition on one server: one heap, so the pop's longest-queue-first order spans every site (across
    partitions a worker can only rotate); `CLUSTER_PARTITIONS` on a cluster, to spread over its primaries."""
    return CLUSTER_PARTITIONS if cluster else 1


@functools.cache
def partition_tags(count: int) -> tuple[str, ...]:
    """Hash tags for `count` partitions, the `n`-th one's slot in the `n`-th of `count` equal slot ranges.

    Spread evenly over the slot space, the partitions spread evenly over
    primaries that own equal slot ranges, whatever their number.
    """
    tags = []
    for n in range(count):
        low, high = n * REDIS_CLUSTER_HASH_SLOTS // count, (n + 1) * REDIS_CLUSTER_HASH_SLOTS // count
        tag = next(tag for k in range(1_000_000) if low <= key_slot((tag := f"p{n}.{k}").encode()) < high)
        tags.append(tag)
    return tuple(tags)


@dataclass(frozen=True)
class Partitions:
    """The partitions of one spider's frontier: key names, and which partition a site is in."""

    spider: str
    count: int

    @classmethod
    def from_settings(cls, settings: Any, spider: str) -> Partitions:
        """`FRONTIER_PARTITIONS` (default 0: `CLUSTER_PARTITIONS` with `REDIS_CLUSTER`, else one); every worker of
        a crawl must use the same number."""
        count = config.get(settings, "FRONTIER_PARTITIONS")
        if not 0 <= count <= 1024:
            raise UserError(f"FRONTIER_PARTITIONS: {count} must be between 1 and 1024, or 0 (automatic)")
        return cls(spider, count or automatic_count(config.get(settings, "REDIS_CLUSTER")))

    @classmethod
    def of_crawl(cls, server: Any, spider: str) -> Partitions:
        """The partitions the crawl in Redis uses (recorded by its workers), for tools that read it from outside
        (`linkcrawler stats`, a new run); the automatic count before any worker started."""
        stored = server.get(cls.count_key(spider))
        return cls(spider, int(stored) if stored is not None else automatic_count(isinstance(server, RedisCluster)))

    @staticmethod
    def count_key(spider: str) -> str:
        return f"{spider}:partitions"

    def __iter__(self) -> Iterable[int]:
        return iter(range(self.count))

    def prefix(self, n: int) -> str:
        """What the Lua scripts build partition `n`'s key names from: `{spider}:{tag}`."""
        return f"{self.spider}:{{{partition_tags(self.count)[n]}}}"

    def key(self, n: int, name: str) -> str:
        return f"{self.prefix(n)}:{name}"

    def keys(self, name: str) -> list[str]:
        """`name` in every partition."""
        return [self.key(n, name) for n in self]

    def of_site(self, site: str) -> int:
        """The partition of a site (a host or a registered domain): its registered domain's, by a hash whose low
        bits are even (CRC16's are not, for names that differ in a digit or two)."""
        digest = hashlib.blake2b(registered_domain(site).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count

    def claim(self, server: Any) -> None:
        """Record the partition count of this crawl in Redis, or refuse a worker that counts differently (its
        sites would be looked for in the wrong partitions)."""
        key = self.count_key(self.spider)
        server.set(key, self.count, nx=True)
        stored = int(server.get(key))
        if stored != self.count:
            raise UserError(
                f"the frontier in Redis has {stored} partition(s) ({key}), this worker has FRONTIER_PARTITIONS="
                f"{self.count}; give every worker the same FRONTIER_PARTITIONS"
            )

    def values(self, server: Any, name: str) -> list[Any]:
        """The string `name` of every partition, None where it is not set, in one pipeline."""
        with server.pipeline(transaction=False) as pipe:
            for key in self.keys(name):
                pipe.get(key)
            return pipe.execute()

    def total(self, server: Any, name: str) -> int:
        """The sum of a counter (`queued`) over the partitions, in one pipeline."""
        return sum(int(value or 0) for value in self.values(server, name))

    def sizes(self, server: Any, name: str, command: str) -> int:
        """The sum of a size (`hlen`, `zcard`) of `name` over the partitions, in one pipeline."""
        with server.pipeline(transaction=False) as pipe:
            for key in self.keys(name):
                getattr(pipe, command)(key)
            return sum(pipe.execute())
