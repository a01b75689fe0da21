"""The frontier alone on one Redis and on a three-primary Redis Cluster: operations per second, load per node.

    python bench/frontier_cluster.py [--quick] [--json]

No HTTP and no Scrapy: simulated workers (threads, each with its own
client, as worker processes would have) run the frontier's own classes
(`Leases`, `PopPlanner`, `SetQueueing`, `Partitions`) in a loop: pop up to
`FRONTIER_PREFETCH` requests, queue each page's links (the read-only
seen-set check, then the queueing scripts), acknowledge its lease. A page's
links are made up from its URL (`LINKS` each, a quarter to other sites),
so both sides see the same web: `SITES` sites, each its own registered
domain. Politeness is off (no slots, no delay): the frontier's own cost is
what is measured. Both sides use 16 partitions (a cluster's default; one
server's is one), so only the server differs.

Both sides persist every write (`appendfsync always`); the cluster is the
test cluster (`linkcrawler.local.redis_cluster`): three primaries, each
with a replica. Reported per side: pages per second (a page = popped, its
links queued, acknowledged) over the timed window, round trips per page
(requests written to any Redis connection, counted in this process), and
per primary: keys, memory used above the empty node's, and commands run
(`INFO commandstats`), with each primary's share against the mean.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis
from redis.connection import AbstractConnection

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cli import run_measure
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.leases import Leases
from linkcrawler.frontier.partitions import CLUSTER_PARTITIONS, Partitions
from linkcrawler.frontier.popping import PopPlanner
from linkcrawler.frontier.queueing import Checked, Entry, SetQueueing
from linkcrawler.frontier.roundtrips import Outbox
from linkcrawler.frontier.runs import CrawlRuns
from linkcrawler.local.redis_cluster import EmbeddedRedisCluster
from linkcrawler.local.redis_server import EmbeddedRedis

SPIDER = "bench"
SITES = 600
LINKS = 20
WORKERS = 4
PREFETCH = 8
PARTITIONS = CLUSTER_PARTITIONS
"""On both sides (one server defaults to one): only the server differs."""


class RoundTrips:
    """Counts requests written to Redis connections in this process: one per command, one per pipeline."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._send = AbstractConnection.send_packed_command

    def __enter__(self) -> RoundTrips:
        counter, send = self, self._send

        def counted(connection: Any, command: Any, check_health: bool = True) -> None:
            with counter._lock:
                counter.count += 1
            send(connection, command, check_health)

        AbstractConnection.send_packed_command = counted
        return self

    def __exit__(self, *exc_info: object) -> None:
        AbstractConnection.send_packed_command = self._send


def site(n: int) -> str:
    return f"www.site{n}.com"


def links_of(url: str) -> list[str]:
    """The page's links, made up from its URL: the same web on every side and run."""
    digest = hashlib.sha1(url.encode()).digest()
    home = int(url.split("site", 1)[1].split(".", 1)[0])
    links = []
    for i in range(LINKS):
        target = digest[i] % SITES if i % 4 == 0 else home
        links.append(f"http://{site(target)}/p{int.from_bytes(digest[i : i + 3], 'big') % 5000}")
    return links


def entry(url: str, depth: int) -> Entry:
    data = json.dumps({"url": url, "callback": "parse", "meta": {"depth": depth}, "priority": -depth})
    return Entry(hashlib.sha1(url.encode()).hexdigest(), depth, data, budget_domain="", site=url.split("/")[2])


class Worker(threading.Thread):
    """Pops, queues each page's links, acknowledges: what a worker does with Redis for every page."""

    def __init__(self, url: str, cluster: bool, name: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.client = connect_redis(url, cluster=cluster)
        partitions = Partitions(SPIDER, PARTITIONS)
        self.leases = Leases(self.client, partitions, worker=name, lease_seconds=300)
        runs = CrawlRuns(self.client, partitions)
        self.pops = PopPlanner(self.client, partitions, self.leases, Outbox(self.client), runs)
        self.queueing = SetQueueing(self.client, partitions)
        self.stop = stop
        self.pages = 0

    def run(self) -> None:
        while not self.stop.is_set():
            leased, _ = self.pops.pop(PREFETCH)
            if not leased:
                time.sleep(0.01)
                continue
            for popped in leased:
                request = json.loads(popped.request)
                self.queue_links(request["url"], request["meta"]["depth"] + 1)
                self.leases.ack([popped.lease])
                self.pages += 1

    def queue_links(self, url: str, depth: int) -> None:
        entries = [entry(link, depth) for link in links_of(url)]
        checked = [Checked(self.queueing.partitions.of_site(e.site), e.fingerprint) for e in entries]
        fresh = [e for e, seen in zip(entries, self.queueing.seen(checked), strict=True) if not seen]
        if fresh:
            self.queueing.queue(0, fresh)


def primaries(url: str, cluster: bool) -> list[redis.Redis]:
    """A plain client per primary: the one server, or each primary of the cluster."""
    if not cluster:
        return [redis.Redis.from_url(url)]
    with redis.Redis.from_url(url) as node:
        ports = sorted({int(shard[2][1]) for shard in node.execute_command("CLUSTER", "SLOTS")})
    return [redis.Redis(host="127.0.0.1", port=port) for port in ports]


def run_side(url: str, cluster: bool, seconds: float, warmup: float) -> dict[str, Any]:
    """Seed every site's home page, run the workers, measure the timed window and each primary's load."""
    nodes = primaries(url, cluster)
    empty = [node.info("memory")["used_memory"] for node in nodes]
    seeder = connect_redis(url, cluster=cluster)
    partitions = Partitions(SPIDER, PARTITIONS)
    partitions.claim(seeder)
    SetQueueing(seeder, partitions).queue(0, [entry(f"http://{site(n)}/", 0) for n in range(SITES)])
    stop = threading.Event()
    workers = [Worker(url, cluster, f"worker{n}", stop) for n in range(WORKERS)]
    for worker in workers:
        worker.start()
    time.sleep(warmup)
    for node in nodes:
        node.config_resetstat()
    with RoundTrips() as trips:
        before, start = sum(w.pages for w in workers), time.monotonic()
        time.sleep(seconds)
        pages, elapsed, sent = sum(w.pages for w in workers) - before, time.monotonic() - start, trips.count
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    per_node = [node_load(node, baseline) for node, baseline in zip(nodes, empty, strict=True)]
    queued = partitions.total(seeder, keys.QUEUED)
    for client in [seeder, *(w.client for w in workers), *nodes]:
        client.close()
    return {
        "pages_per_second": round(pages / elapsed, 1),
        "round_trips_per_page": round(sent / pages, 2),
        "pages": pages,
        "queued_at_end": queued,
        "primaries": per_node,
        **balance(per_node),
    }


def node_load(node: redis.Redis, empty_memory: int) -> dict[str, int]:
    commands = sum(stat["calls"] for stat in node.info("commandstats").values())
    return {"keys": node.dbsize(), "memory_bytes": node.info("memory")["used_memory"] - empty_memory,
            "commands": commands}  # fmt: skip


def balance(per_node: list[dict[str, int]]) -> dict[str, float]:
    """Each measure's largest primary against the mean of the primaries: 1.0 is even."""
    return {
        f"max_{measure}_over_mean": round(
            max(n[measure] for n in per_node) / statistics.mean(n[measure] for n in per_node), 2
        )
        for measure in ("keys", "memory_bytes", "commands")
    }


def measure(quick: bool) -> dict[str, Any]:
    seconds, warmup = (5.0, 2.0) if quick else (30.0, 5.0)
    with EmbeddedRedis(persist=True) as server:
        one = run_side(server.url, False, seconds, warmup)
    with EmbeddedRedisCluster() as cluster:
        three = run_side(cluster.url, True, seconds, warmup)
    return {
        "one_server_pages_per_second": one["pages_per_second"],
        "cluster_pages_per_second": three["pages_per_second"],
        "one_server_round_trips_per_page": one["round_trips_per_page"],
        "cluster_round_trips_per_page": three["round_trips_per_page"],
        "cluster_max_keys_over_mean": three["max_keys_over_mean"],
        "cluster_max_memory_over_mean": three["max_memory_bytes_over_mean"],
        "cluster_max_commands_over_mean": three["max_commands_over_mean"],
        "details": {
            "one_server": one,
            "cluster": three,
            "workers": WORKERS,
            "sites": SITES,
            "links": LINKS,
            "prefetch": PREFETCH,
            "seconds": seconds,
        },
    }


if __name__ == "__main__":
    run_measure(measure, __doc__, "5 s windows instead of 30 s")
