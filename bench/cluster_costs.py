"""What a growing crawl costs: Redis memory per URL, MongoDB bytes per link, pages/s per worker.

    python bench/cluster_costs.py [--urls N] [--quick] [--json]

- Redis: N links to follow queued through the frontier's own queueing script
  as the frontier stores them (a depth and the URL past its site,
  `linkcrawler.frontier.serializer.encode_page`), 50 URLs a site and again
  one URL a site, and their fingerprints added to the seen-set; `MEMORY
  USAGE` of each key (all members sampled) divided by N. URLs are shaped like
  real ones (60-90 characters); the queue cost grows with URL length, the
  seen-set's does not (fixed-size fingerprints).
- MongoDB: no server here, so this is an estimate: the BSON size of the
  `links` documents the store holds for the link-heavy corpus of
  bench/extract.py (written through the in-process emulation), plus the BSON size of each index's keys (the `_id` index
  included) plus an 8-byte record id per entry, uncompressed. WiredTiger
  compresses documents (snappy) and prefix-compresses index keys, so a real
  server stores less; measure `db.links.stats()` on yours.
- Workers: one `scrapy crawl backlinks` process on a synthetic web on
  loopback (small pages, about 20 links each); pages per second between its
  first and last fetch.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
from scrapy_redis.dupefilter import RFPDupeFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.extract import WORDS, corpus
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import Extractor
from linkcrawler.extract.urls import split_host
from linkcrawler.frontier import keys, serializer
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.queueing import Entry, SetQueueing
from linkcrawler.local.demo import LocalCrawl
from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import WebServer, generate_web
from linkcrawler.store.documents import page_records
from linkcrawler.store.linkstore import LINK_INDEXES, LinkStore
from linkcrawler.store.mongo import get_database
from spiders.backlinks import BacklinksSpider

MILLION = 1_000_000


URLS_PER_SITE = (50, 1)
"""Queued URLs per site, measured each: a site's queue and its place in the heap cost the same however many URLs
wait there."""
DEPTH = 3


def _urls(count: int, per_site: int, rng: random.Random, pad: int = 0) -> list[str]:
    hosts = [f"www.{rng.choice(WORDS)}-{rng.choice(WORDS)}{n}.com" for n in range(count // per_site + 1)]
    return [
        f"https://{hosts[n // per_site]}/"
        f"{rng.choice(WORDS)}/{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n}{'-' * pad}.html"
        for n in range(count)
    ]


def redis_costs(count: int, pad: int = 0, server_config: dict[str, str] | None = None) -> dict[str, Any]:
    """Bytes of Redis memory per queued URL at each of `URLS_PER_SITE`, and per seen URL; each URL `pad`
    characters longer, the server started with `server_config`."""
    measured = {per_site: queue_costs(count, per_site, pad, server_config) for per_site in URLS_PER_SITE}
    first = measured[URLS_PER_SITE[0]]
    return {
        "urls": count,
        "mean_url_chars": first["mean_url_chars"],
        "mean_request_json_bytes": first["mean_request_json_bytes"],
        **{f"queue_bytes_per_url_{n}_per_site": costs["queue_bytes_per_url"] for n, costs in measured.items()},
        "seen_bytes_per_url": first["seen_bytes_per_url"],
        **{f"queue_mb_per_million_{n}_per_site": costs["queue_mb_per_million"] for n, costs in measured.items()},
        "seen_mb_per_million": first["seen_mb_per_million"],
        "server": first["server"],
    }


def queue_costs(count: int, per_site: int, pad: int = 0, server_config: dict[str, str] | None = None,
                ) -> dict[str, Any]:  # fmt: skip
    """Bytes of Redis memory per queued URL and per seen URL, `per_site` URLs a site, queued the way the frontier
    queues a page's links (per-site queues, the heap of sites and the seen-set: linkcrawler.frontier.keys)."""
    spider = BacklinksSpider()
    urls = _urls(count, per_site, random.Random(1), pad)
    with EmbeddedRedis(config=server_config) as server:
        client = connect_redis(server.url)
        partitions = Partitions.of_crawl(client, spider.name)
        queueing = SetQueueing(client, partitions)
        seen = RFPDupeFilter(client, keys.spider_key(keys.DUPEFILTER_KEY, spider.name))
        for start in range(0, count, 500):
            entries = []
            for url in urls[start : start + 500]:
                request = spider.page_request(url)
                host = split_host(url)[0]
                data = serializer.encode_page(serializer.Page(url, DEPTH), host)
                entries.append(Entry(seen.request_fingerprint(request), DEPTH, data, budget_domain="", site=host))
            queueing.queue(0, entries)
        site_queues = list(client.scan_iter(f"{spider.name}:*:queue:*", count=10_000))
        sites = len(site_queues)
        seen_keys = partitions.keys(keys.SEEN)
        assert partitions.total(client, keys.QUEUED) == count == sum(map(client.scard, seen_keys))
        queue_keys = [*site_queues, *partitions.keys(keys.SITES)]
        queued = sum(client.memory_usage(key, samples=0) or 0 for key in queue_keys) / count
        seen_bytes = sum(client.memory_usage(key, samples=0) or 0 for key in seen_keys) / count
        version = client.info("server").get("valkey_version") or client.info("server")["redis_version"]
    request_json = statistics.mean(
        len(serializer.encode_request(spider.page_request(u), serializer.SpiderMethods(spider))) for u in urls[:1000]
    )
    return {
        "urls": count,
        "mean_url_chars": round(statistics.mean(map(len, urls)), 1),
        "mean_request_json_bytes": round(request_json, 1),
        "queued_sites": sites,
        "queue_bytes_per_url": round(queued, 1),
        "seen_bytes_per_url": round(seen_bytes, 1),
        "queue_mb_per_million": round(queued * MILLION / 2**20),
        "seen_mb_per_million": round(seen_bytes * MILLION / 2**20),
        "server": f"valkey/redis {version}",
    }


def mongo_costs(pages: int = 300) -> dict[str, float]:
    """Estimated bytes per stored link: document plus index entries, uncompressed.

    The documents are those the store holds once it has written the pages' links (the in-process emulation), with
    the fields it adds to what the pipeline builds; an index entry of a field a document lacks holds a null.
    """
    extractor = Extractor()
    now = datetime.now(UTC)
    store = LinkStore(get_database(f"mongomock://cluster-costs-{uuid.uuid4().hex}", "linkcrawler"))
    for url, html in corpus(pages):
        page = extractor.extract(html, url, {})
        item = PageItem(url=url, fetched_at=now, status=200, ip="203.0.113.7", links=page.links)
        records = page_records(item, store_internal=True)
        store.write(records.links, records.pages)
    unique = list(store.links.find())
    document_bytes = statistics.mean(len(bson.encode(doc)) for doc in unique)
    index_keys = [["_id"], *([field for field, _ in keys] for _, keys in LINK_INDEXES)]
    index_bytes = {
        "+".join(fields): statistics.mean(len(bson.encode({f: doc.get(f) for f in fields})) + 8 for doc in unique)
        for fields in index_keys
    }
    per_link = document_bytes + sum(index_bytes.values())
    return {
        "links": len(unique),
        "document_bytes": round(document_bytes),
        "index_bytes": {name: round(size) for name, size in index_bytes.items()},
        "bytes_per_link": round(per_link),
        "gb_per_million_links": round(per_link * MILLION / 2**30, 2),
    }


def worker_rate(sites: int = 40, pages_per_site: int = 25) -> dict[str, float]:
    """Pages per second of one worker, first fetch to last, on the synthetic web."""
    with WebServer(generate_web(seed=11, sites=sites, pages_per_site=pages_per_site)) as server, LocalCrawl() as local:
        local.crawl(server.seeds, server.hosts, workers=1, timeout=600)
        times = [doc["fetched_at"] for doc in local.store.pages.find({}, {"fetched_at": 1})]
    span = (max(times) - min(times)).total_seconds()
    return {"pages": len(times), "seconds": round(span, 1), "pages_per_second": round(len(times) / span, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=100_000, help="URLs to queue and mark seen")
    parser.add_argument("--quick", action="store_true", help="20 pages of links to store and a 10-site web to crawl")
    parser.add_argument("--pad", type=int, default=0, help="characters added to each URL's path")
    parser.add_argument("--zset-max-listpack-value", type=int, help="the Redis server's setting (default: its own)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    listpack = args.zset_max_listpack_value
    result = {
        "redis": redis_costs(args.urls, args.pad, {"zset-max-listpack-value": str(listpack)} if listpack else None),
        "mongodb_estimate": mongo_costs(20 if args.quick else 300),
        "worker": worker_rate(10, 10) if args.quick else worker_rate(),
    }
    result["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
