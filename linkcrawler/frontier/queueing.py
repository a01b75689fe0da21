"""Putting new requests on the frontier: marked seen, counted and queued in one step.

Marking a request seen, counting it against its domain's page budget and
queueing it run as one Lua script (`lua/set_queue.lua`,
`lua/bloom_queue.lua`, sharing `queue_new` in `lua/library.lua`), so a worker killed between the steps
cannot leave a URL seen but never queued (lost for the rest of the run). A
flush first asks, read-only and in one round trip, which fingerprints are
seen already: most links of a page were, and they are then never encoded.
The script checks again, as another worker may have queued them since.

Each kind of seen-set has its class with the same two methods: `SetQueueing`
for scrapy-redis's set of fingerprints, `linkcrawler.frontier.bloom.BloomQueueing` for
the Bloom filter. A dupefilter offers its own through a
`queueing(partitions)` method.

The seen-set, the budgets and the queues are split into the frontier's
partitions (`linkcrawler.frontier.partitions`), a URL's fingerprint in the
partition of its site: a page's links are grouped by partition, with one
command (the check) or one script (the queueing) per partition touched, each
group in one pipeline. So a flush costs two round trips on one server, and
two per node its links reach on a Redis Cluster.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from linkcrawler.frontier import keys, scripts
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.roundtrips import Call, run_scripts


class Entry(NamedTuple):
    """A request to queue, as the queueing scripts take it (`lua/set_queue.lua`, `lua/bloom_queue.lua`)."""

    fingerprint: str
    """Its key in the seen-set, "" for one never filtered."""
    score: float
    """Minus its priority: a site's best request is its lowest score."""
    request: str | bytes
    """The request encoded (`linkcrawler.frontier.serializer`)."""
    budget_domain: str
    """The registered domain its page counts against, "" when no budget applies."""
    site: str
    """The site it waits on (`linkcrawler.frontier.sites`)."""

    def queue_arguments(self) -> tuple[float, str | bytes, str, str]:
        """What a queueing script takes after the fingerprint, in its order (`queue_new`)."""
        return self.score, self.request, self.budget_domain, self.site


def page_fingerprint(url: str) -> str:
    """scrapy-redis's fingerprint (`RFPDupeFilter.request_fingerprint`) of a GET of `url` without a body.

    For a URL `canonicalize_url` leaves as it is, which every normalized URL
    is (`linkcrawler.extract.urls`), so it is not canonicalized again: that,
    and making a `Request` to fingerprint, cost about 2% of a worker.
    """
    return hashlib.sha1(json.dumps({"body": "", "method": "GET", "url": url}, sort_keys=True).encode()).hexdigest()


class Checked(NamedTuple):
    """A fingerprint to look up in the seen-set, in the partition of its request's site."""

    partition: int
    fingerprint: str


class Queueing(Protocol):
    """What the frontier asks of a seen-set to queue a batch of requests."""

    def seen(self, fingerprints: list[Checked]) -> list[bool]:
        """Whether each fingerprint is seen already, changing nothing; one pipeline."""

    def queue(self, limit: int, entries: list[Entry]) -> list[int]:
        """Mark seen, count and queue each entry, atomically per partition; per entry 1 queued, 0 seen before,
        -1 over budget."""

    def queue_calls(self, limit: int, entries: list[Entry]) -> tuple[list[Call], Results]:
        """`queue` as script calls to send with others (`linkcrawler.frontier.roundtrips.Outbox`), and what turns
        their replies into `queue`'s results."""


Results = Callable[[list[Any]], list[int]]
"""What turns the replies of a batch's queueing scripts into one result per entry, in the entries' order."""


def calls_by_partition(partitions: Partitions, entries: list[Entry],
                       call: Callable[[int, list[Entry]], Call]) -> tuple[list[Call], Results]:  # fmt: skip
    """Group entries by their site's partition, one `call(partition, group)` per group; and what gives the
    results back in the entries' order."""
    groups: dict[int, list[int]] = {}
    for index, entry in enumerate(entries):
        groups.setdefault(partitions.of_site(entry.site), []).append(index)

    def results(replies: list[Any]) -> list[int]:
        ordered = [0] * len(entries)
        for indexes, reply in zip(groups.values(), replies, strict=True):
            for index, result in zip(indexes, reply, strict=True):
                ordered[index] = int(result)
        return ordered

    return [call(n, [entries[i] for i in indexes]) for n, indexes in groups.items()], results


def queue_now(server: Any, calls: tuple[list[Call], Results]) -> list[int]:
    """Send a batch's queueing calls on their own: one round trip."""
    scripts, results = calls
    return results(run_scripts(server, scripts))


class SetQueueing:
    """Queueing through a Redis set of hex fingerprints per partition (scrapy-redis's seen-set, partitioned)."""

    def __init__(self, server: Any, partitions: Partitions) -> None:
        self.server = server
        self.partitions = partitions
        self._script = scripts.register(server, "set_queue")

    def seen(self, fingerprints: list[Checked]) -> list[bool]:
        groups: dict[int, list[int]] = {}
        for index, checked in enumerate(fingerprints):
            groups.setdefault(checked.partition, []).append(index)
        with self.server.pipeline(transaction=False) as pipe:
            for n, indexes in groups.items():
                pipe.smismember(self.partitions.key(n, keys.SEEN), [fingerprints[i].fingerprint for i in indexes])
            replies = pipe.execute()
        found = [False] * len(fingerprints)
        for indexes, reply in zip(groups.values(), replies, strict=True):
            for index, hit in zip(indexes, reply, strict=True):
                found[index] = bool(hit)
        return found

    def queue(self, limit: int, entries: list[Entry]) -> list[int]:
        return queue_now(self.server, self.queue_calls(limit, entries))

    def queue_calls(self, limit: int, entries: list[Entry]) -> tuple[list[Call], Results]:
        return calls_by_partition(self.partitions, entries, self._call(limit))

    def _call(self, limit: int) -> Callable[[int, list[Entry]], Call]:
        def call(n: int, group: list[Entry]) -> Call:
            partition_keys = [self.partitions.key(n, name) for name in (keys.SITES, keys.DOMAIN_PAGES, keys.SEEN)]
            args = [limit, self.partitions.prefix(n)]
            for entry in group:
                args += [entry.fingerprint, *entry.queue_arguments()]
            return Call(self._script, partition_keys, args)

        return call
