"""A Bloom-filter seen-set in plain Redis (no modules), for crawls too large for a fingerprint set.

scrapy-redis keeps every request fingerprint (40 hex characters) in a Redis
set: about 84 bytes of memory per URL, forever. A Bloom filter sized by the
standard formulas, m = -n ln p / (ln 2)^2 bits and k = (m / n) ln 2 hash
positions, needs 14.4 bits (1.8 bytes) per URL at a 0.1% false-positive rate,
at the price of that rate: a URL never seen may be taken for seen (and not
crawled); a URL seen is never taken for unseen.

Layout: the m bits are split into `partitions` Redis strings of equal size
(`<key>:bloom:<n>`, described in JSON at `<key>:bloom`), so no single
allocation grows past `MAX_PARTITION_BYTES`; a URL's fingerprint picks one
partition and its k bits inside it (double hashing from the SHA-1
fingerprint, as Kirsch and Mitzenmacher show suffices). Partition sizes are
allocator size classes (jemalloc's, which Redis uses; they are page multiples,
which suits glibc's mmap too) less a small header, so the memory Redis reports
is the memory the formulas ask for, within a few percent. A Lua script tests
(`lua/bloom_add.lua`) and sets the k bits atomically, so two workers racing on one URL cannot both
see it as new; it creates a missing partition at full size in one allocation
(SETBIT would grow it step by step and overshoot). The frontier queues
through `BloomQueueing`, whose script does the same for a page's new links
and queues them in the same step (see `linkcrawler.frontier.queueing`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

from linkcrawler import config
from linkcrawler.errors import UserError
from linkcrawler.frontier import scripts
from linkcrawler.frontier.keys import DOMAIN_PAGES, SEEN, SITES
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.queueing import Checked, Entry, Results, calls_by_partition, queue_now
from linkcrawler.frontier.roundtrips import Call, run_scripts

MAX_PARTITION_BYTES = 8 * 1024 * 1024
"""Largest Redis string a partition may be: big enough to keep key counts low, small enough to allocate lazily."""

SIZE_HEADROOM = 64
"""Bytes left in each size class for the allocator's and Redis's own headers."""


def _size_classes(limit: int) -> list[int]:
    """jemalloc's size classes from 4 KiB to `limit`: four per doubling."""
    classes, base = [], 4096
    while base < limit:
        classes += [base + base * step // 4 for step in range(1, 5)]
        base *= 2
    return [size for size in classes if size <= limit]


@dataclass(frozen=True)
class BloomLayout:
    """How a filter for `capacity` URLs at `error_rate` is laid out in Redis."""

    partitions: int
    partition_bytes: int
    hashes: int

    @classmethod
    def plan(cls, capacity: int, error_rate: float) -> BloomLayout:
        """The smallest allocation holding m bits; k chosen for the bits actually allocated."""
        if capacity < 1 or not 0 < error_rate < 1:
            raise UserError(
                f"Bloom filter needs BLOOM_CAPACITY >= 1 and 0 < BLOOM_ERROR_RATE < 1, not {capacity} and {error_rate}"
            )
        needed = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2 / 8)
        partitions, size = min(
            ((math.ceil(needed / (size - SIZE_HEADROOM)), size) for size in _size_classes(MAX_PARTITION_BYTES)),
            key=lambda option: (option[0] * option[1], option[0]),
        )
        partition_bytes = size - SIZE_HEADROOM
        bits = partitions * partition_bytes * 8
        hashes = max(1, round(bits / capacity * math.log(2)))
        return cls(partitions, partition_bytes, hashes)

    def positions(self, fingerprint: bytes) -> tuple[int, list[int]]:
        """(partition, bit offsets) of a 20-byte fingerprint."""
        partition = int.from_bytes(fingerprint[:4], "big") % self.partitions
        first = int.from_bytes(fingerprint[4:12], "big")
        step = int.from_bytes(fingerprint[12:20], "big") | 1
        bits = self.partition_bytes * 8
        return partition, [(first + i * step) % bits for i in range(self.hashes)]


class BloomFilter:
    """The filter under `key` in one Redis; every worker must plan it with the same capacity and rate."""

    def __init__(self, server: Any, key: str, layout: BloomLayout) -> None:
        self.server = server
        self.key = key
        self.layout = layout
        self._script = scripts.register(server, "bloom_add")
        self._contains = scripts.register(server, "bloom_contains")
        described = json.dumps(dataclasses.asdict(layout), sort_keys=True)
        meta = self.meta_key(key)
        server.set(meta, described, nx=True)
        stored = server.get(meta)
        if stored is not None and json.loads(stored) != json.loads(described):
            raise UserError(
                f"the Bloom filter in {meta} was built as {stored}, this worker plans {described}; "
                "give every worker the same BLOOM_CAPACITY and BLOOM_ERROR_RATE (or start a new run)"
            )

    @staticmethod
    def meta_key(key: str) -> str:
        return f"{key}:bloom"

    def add(self, fingerprint: bytes) -> bool:
        """Set the fingerprint's bits; True when they were all set already (seen, or a false positive)."""
        partition, offsets = self.layout.positions(fingerprint)
        return bool(self._script(keys=[self._partition_key(partition)], args=[self.layout.partition_bytes, *offsets]))

    def add_many(self, fingerprints: list[bytes]) -> list[bool]:
        """`add` for many fingerprints in one round trip."""
        pipe = self.server.pipeline(transaction=False)
        for fingerprint in fingerprints:
            partition, offsets = self.layout.positions(fingerprint)
            keys, args = [self._partition_key(partition)], [self.layout.partition_bytes, *offsets]
            self._script(keys=keys, args=args, client=pipe)
        return [bool(seen) for seen in pipe.execute()]

    def contains_many(self, fingerprints: list[bytes]) -> list[bool]:
        """Whether each fingerprint's bits are all set, changing nothing; one round trip."""
        if not fingerprints:
            return []
        return [bool(found) for found in run_scripts(self.server, [self.contains_call(fingerprints)])[0]]

    def contains_call(self, fingerprints: list[bytes]) -> Call:
        """The script call of `contains_many`, for `run_scripts` to send with others."""
        keys: dict[str, int] = {}
        args = [self.layout.hashes]
        for fingerprint in fingerprints:
            args += self.located(fingerprint, keys)
        return Call(self._contains, list(keys), args)

    def located(self, fingerprint: bytes, keys: dict[str, int]) -> list[int]:
        """[partition, *bit offsets] of a fingerprint for a script, the partition as its 1-based index in KEYS.

        `keys` holds one script call's keys in order, each with its index;
        a partition not there yet is added.
        """
        partition, offsets = self.layout.positions(fingerprint)
        key = self._partition_key(partition)
        return [keys.setdefault(key, len(keys) + 1), *offsets]

    def memory_bytes(self) -> int:
        """Redis's own account (MEMORY USAGE) of every partition and the description."""
        keys = [self.meta_key(self.key), *(self._partition_key(n) for n in range(self.layout.partitions))]
        return sum(self.server.memory_usage(key, samples=0) or 0 for key in keys)

    def _partition_key(self, partition: int) -> str:
        return f"{self.meta_key(self.key)}:{partition}"

    @classmethod
    def delete(cls, server: Any, key: str) -> None:
        """Remove the filter under `key`, whatever its layout (a new crawl run starts from empty)."""
        meta = cls.meta_key(key)
        described = server.get(meta)
        partitions = json.loads(described)["partitions"] if described else 0
        server.delete(meta, *(f"{meta}:{n}" for n in range(partitions)))


class BloomDupeFilter(RFPDupeFilter):
    """`DUPEFILTER_CLASS = "linkcrawler.frontier.bloom.BloomDupeFilter"`: the shared seen-set as a Bloom filter.

    Settings read here (through `from_frontier`, which the frontier calls):

    - `BLOOM_CAPACITY` (default 10,000,000): URLs the filter is sized for; past
      it, the false-positive rate climbs above the configured one.
    - `BLOOM_ERROR_RATE` (default 0.001): the false-positive rate at capacity,
      the share of new URLs wrongly skipped as seen.

    The frontier keeps one filter per partition (`linkcrawler.frontier.partitions`),
    each sized for `BLOOM_CAPACITY / FRONTIER_PARTITIONS` URLs, so marking a
    link seen and queueing it stay one script on a Redis Cluster. Redis
    memory is allocated up front as a filter's partitions are first touched:
    about 1.8 bytes per URL of capacity at 0.1% (18 MB for the default).
    """

    def __init__(self, server: Any, key: str, debug: bool = False, *, capacity: int | None = None,
                 error_rate: float | None = None) -> None:  # fmt: skip
        super().__init__(server, key, debug)
        self.capacity = config.default("BLOOM_CAPACITY") if capacity is None else capacity
        self.error_rate = config.default("BLOOM_ERROR_RATE") if error_rate is None else error_rate
        BloomLayout.plan(self.capacity, self.error_rate)  # refuses a bad size at once
        self._bloom: BloomFilter | None = None

    @classmethod
    def from_frontier(cls, server: Any, key: str, settings: Any) -> BloomDupeFilter:
        capacity, error_rate = config.get(settings, "BLOOM_CAPACITY"), config.get(settings, "BLOOM_ERROR_RATE")
        return cls(server, key, settings.getbool("DUPEFILTER_DEBUG"), capacity=capacity, error_rate=error_rate)

    @property
    def bloom(self) -> BloomFilter:
        """One filter under `key`, for `request_seen` outside the frontier (the frontier queues through its own)."""
        if self._bloom is None:
            self._bloom = BloomFilter(self.server, self.key, BloomLayout.plan(self.capacity, self.error_rate))
        return self._bloom

    def request_seen(self, request: Request) -> bool:
        return self.bloom.add(bytes.fromhex(self.request_fingerprint(request)))

    def queueing(self, partitions: Partitions) -> BloomQueueing:
        """How the frontier queues new requests through this filter (see `linkcrawler.frontier.queueing`)."""
        layout = BloomLayout.plan(math.ceil(self.capacity / partitions.count), self.error_rate)
        return BloomQueueing(self.server, partitions, layout)

    def clear(self) -> None:
        BloomFilter.delete(self.server, self.key)


class BloomQueueing:
    """`linkcrawler.frontier.queueing.SetQueueing`'s counterpart for Bloom filters, one per partition:
    fingerprints are hex SHA-1s."""

    def __init__(self, server: Any, partitions: Partitions, layout: BloomLayout) -> None:
        self.server = server
        self.partitions = partitions
        self.layout = layout
        self._filters: dict[int, BloomFilter] = {}
        self._script = scripts.register(server, "bloom_queue")

    def filter(self, n: int) -> BloomFilter:
        """Partition `n`'s filter, checked against the layout stored for it on first use."""
        if n not in self._filters:
            self._filters[n] = BloomFilter(self.server, self.partitions.key(n, SEEN), self.layout)
        return self._filters[n]

    def seen(self, fingerprints: list[Checked]) -> list[bool]:
        groups: dict[int, list[int]] = {}
        for index, checked in enumerate(fingerprints):
            groups.setdefault(checked.partition, []).append(index)
        calls = [
            self.filter(n).contains_call([bytes.fromhex(fingerprints[i].fingerprint) for i in indexes])
            for n, indexes in groups.items()
        ]
        found = [False] * len(fingerprints)
        for indexes, reply in zip(groups.values(), run_scripts(self.server, calls), strict=True):
            for index, hit in zip(indexes, reply, strict=True):
                found[index] = bool(hit)
        return found

    def queue(self, limit: int, entries: list[Entry]) -> list[int]:
        return queue_now(self.server, self.queue_calls(limit, entries))

    def queue_calls(self, limit: int, entries: list[Entry]) -> tuple[list[Call], Results]:
        return calls_by_partition(self.partitions, entries, self._call(limit))

    def _call(self, limit: int) -> Callable[[int, list[Entry]], Call]:
        def call(n: int, group: list[Entry]) -> Call:
            bloom = self.filter(n)
            keys = {self.partitions.key(n, SITES): 1, self.partitions.key(n, DOMAIN_PAGES): 2}
            unfiltered = [0] * (self.layout.hashes + 1)
            args: list[Any] = [limit, self.layout.partition_bytes, self.layout.hashes, self.partitions.prefix(n)]
            for entry in group:
                args += bloom.located(bytes.fromhex(entry.fingerprint), keys) if entry.fingerprint else unfiltered
                args += entry.queue_arguments()
            return Call(self._script, list(keys), args)

        return call
