"""Carrying the frontier of the previous versions over into the partitioned one, on one Redis server.

linkcrawler 0.1 kept every queued request in one sorted set
(`backlinks:requests`) and leases as `{score}|{request}`; the unpartitioned
per-site frontier kept a heap `backlinks:sites`, queues
`backlinks:queue:{SITE}`, leases `{site}|{score}|{request}` in
`backlinks:leases` and the budgets in `backlinks:domain_pages`. A worker
starting moves all of it into the partitions (`linkcrawler.frontier.partitions`)
in atomic batches of 500: a worker killed midway loses nothing and the next
one carries on. Leases go back to their sites' queues, and seeds the old
workers took (`backlinks:seeds_taken:WORKER`) to the head of the start list:
workers of the old version must be stopped first.

The partitioned frontier of before kept its sites' clocks and delays in two
hashes per partition (`site_last`, `site_delay`) that were never emptied; they
are deleted (on a cluster too): a site's clock and delay are keys that expire
now, and a worker learns a site's Crawl-delay again from its robots.txt.

The previous run's seen-set cannot be split by site (a fingerprint does not
say its URL), so it is left unread: one warning line says so, and pages of
that run may be fetched once more. A Redis Cluster has nothing to carry (the
previous version could not run on one), and its scripts could not reach
keys of other slots: nothing is done there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from redis.cluster import RedisCluster

from linkcrawler.frontier import keys, scripts
from linkcrawler.frontier.partitions import Partitions

logger = logging.getLogger(__name__)

BATCH = 500


def carry_over(server: Any, partitions: Partitions, site_of: Callable[[str], str]) -> int:
    """Move what the previous versions left on one server into the partitions; how many requests moved."""
    _drop_clock_hashes(server, partitions)
    if isinstance(server, RedisCluster):
        return 0
    spider = partitions.spider
    move = scripts.register(server, "carry_over_requests")
    legacy_sites = keys.spider_key(keys.LEGACY_SITES_KEY, spider)
    queues = [keys.spider_key(keys.LEGACY_QUEUE_KEY, spider)]
    queues += [f"{spider}:queue:{{{site.decode()}}}" for site in server.zrange(legacy_sites, 0, -1)]
    moved = sum(_move_queue(server, move, queue, partitions, site_of) for queue in queues)
    moved += _move_leases(server, move, keys.spider_key(keys.LEGACY_LEASES_KEY, spider), partitions, site_of)
    _move_budgets(server, keys.spider_key(keys.LEGACY_DOMAIN_PAGES_KEY, spider), partitions)
    start = keys.spider_key(keys.START_URLS_KEY, spider)
    for taken in server.scan_iter(f"{spider}:seeds_taken:*"):  # seeds a stopped worker took: back to the head
        while server.lmove(taken, start, "RIGHT", "LEFT") is not None:
            moved += 1
    if moved:
        server.delete(legacy_sites, *(keys.spider_key(pattern, spider) for pattern in keys.LEGACY_KEYS))
        logger.warning("carried %d requests over from the previous version's frontier", moved)
        seen = keys.spider_key(keys.DUPEFILTER_KEY, spider)
        if server.exists(seen, f"{seen}:bloom"):
            logger.warning(
                "the previous version's seen-set (%s) cannot be split into partitions and is not used: pages "
                "of that run may be fetched once more (`linkcrawler seed --new-run` deletes it)",
                seen,
            )
    return moved


def _drop_clock_hashes(server: Any, partitions: Partitions) -> None:
    """The previous version's hashes of site clocks and delays, on a cluster too: a worker relearns a site's
    Crawl-delay from its robots.txt."""
    with server.pipeline(transaction=False) as pipe:
        for name in keys.LEGACY_PARTITION_KEYS:
            for key in partitions.keys(name):
                pipe.delete(key)
        pipe.execute()


def _move_queue(server: Any, move: Any, queue: str, partitions: Partitions, site_of: Callable[[str], str]) -> int:
    moved = 0
    while batch := server.zrange(queue, 0, BATCH - 1, withscores=True):
        args: list[Any] = ["zset"]
        for data, score in batch:
            site = site_of(json.loads(data)["url"])
            args += [data, site, score, data, partitions.prefix(partitions.of_site(site))]
        moved += int(move(keys=[queue], args=args))
    return moved


def _move_leases(server: Any, move: Any, leases: str, partitions: Partitions, site_of: Callable[[str], str]) -> int:
    """Old leases, `{score}|{request}` (0.1) or `{site}|{score}|{request}`, back onto their sites' queues."""
    moved = 0
    old = list(server.hscan_iter(leases))
    for start in range(0, len(old), BATCH):
        args: list[Any] = ["hash"]
        for lease, value in old[start : start + BATCH]:
            first, rest = value.split(b"|", 1)
            score, data = (first, rest) if _is_number(first) else rest.split(b"|", 1)
            site = site_of(json.loads(data)["url"])
            args += [lease, site, score, data, partitions.prefix(partitions.of_site(site))]
        moved += int(move(keys=[leases], args=args))
    return moved


def _move_budgets(server: Any, budgets: str, partitions: Partitions) -> None:
    script = scripts.register(server, "carry_over_budgets")
    old = list(server.hscan_iter(budgets))
    for start in range(0, len(old), BATCH):
        args: list[Any] = []
        for domain, pages in old[start : start + BATCH]:
            args += [domain, pages, partitions.prefix(partitions.of_site(domain.decode()))]
        script(keys=[budgets], args=args)


def _is_number(text: bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
