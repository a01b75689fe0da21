"""Redis memory per URL and the real false-positive rate: the Bloom dupefilter against scrapy-redis's fingerprint set.

    python bench/bloom.py [--quick] [--json]

Both seen-sets get the same N request fingerprints (scrapy-redis's own
`request_fingerprint` of N distinct URLs on 1,000 sites) in one embedded
Valkey. Memory is Redis's own account, `MEMORY USAGE key SAMPLES 0`, summed
over every key of each seen-set. The Bloom filter is sized for exactly N
URLs at a 0.1% false-positive rate, filled to capacity, then probed with N/2
URLs it never saw (read only, so probing does not fill it further): the
share it claims to have seen is the real false-positive rate.

Speed: the frontier queues the same pages' links (170 per page, half of them
a template every page repeats) through each seen-set, side by side in
rotating order over 3 rounds, each round on an emptied Redis; the key is the
median of (seconds through the set) / (seconds through the filter), wall
time, as most of the work is Redis's.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scrapy_redis.dupefilter import RFPDupeFilter

from bench.cli import run_measure
from linkcrawler.frontier.bloom import BloomFilter, BloomLayout
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.scheduler import Scheduler
from linkcrawler.local.redis_server import EmbeddedRedis

ERROR_RATE = 0.001
CHUNK = 10_000
SEEN_SETS = {"set": "scrapy_redis.dupefilter.RFPDupeFilter", "bloom": "linkcrawler.frontier.bloom.BloomDupeFilter"}


class _Bench(Spider):
    name = "bench"


def fingerprints(start: int, count: int) -> list[str]:
    """scrapy-redis fingerprints (hex) of `count` distinct URLs."""
    fingerprint = RFPDupeFilter(None, "unused").request_fingerprint
    return [
        fingerprint(Request(f"https://site{n % 1000}.example/articles/{n}?page={n % 7}"))
        for n in range(start, start + count)
    ]


def measure(quick: bool = False) -> dict[str, float]:
    urls = 50_000 if quick else 1_000_000
    seen = fingerprints(0, urls)
    unseen = [bytes.fromhex(fp) for fp in fingerprints(urls, urls // 2)]
    with EmbeddedRedis() as server:
        redis = connect_redis(server.url)
        for n in range(0, urls, CHUNK):
            redis.sadd("fingerprints", *seen[n : n + CHUNK])
        set_bytes = redis.memory_usage("fingerprints", samples=0)
        bloom = BloomFilter(redis, "bloom", BloomLayout.plan(urls, ERROR_RATE))
        for n in range(0, urls, CHUNK):
            bloom.add_many([bytes.fromhex(fp) for fp in seen[n : n + CHUNK]])
        bloom_bytes = bloom.memory_bytes()
        false_positives = sum(sum(bloom.contains_many(unseen[n : n + CHUNK])) for n in range(0, len(unseen), CHUNK))
        queueing = _queueing_ratios(redis, server.url, 50 if quick else 300)
        redis.close()
    return {
        "bloom_queueing_vs_set": round(statistics.median(queueing), 3),
        "bloom_bytes_per_url": round(bloom_bytes / urls, 3),
        "bloom_false_positive_rate": round(false_positives / len(unseen), 5),
        "fingerprint_set_bytes_per_url": round(set_bytes / urls, 1),
        "urls": urls,
        "configured_error_rate": ERROR_RATE,
        "bloom_partitions": bloom.layout.partitions,
        "bloom_hashes": bloom.layout.hashes,
    }


def _queueing_ratios(redis: Any, url: str, pages: int) -> list[float]:
    """Per round, seconds queueing `pages` pages through the set over seconds through the Bloom filter."""
    ratios = []
    for n in range(3):
        seconds = {}
        for name in sorted(SEEN_SETS, reverse=n % 2 == 1):
            redis.flushdb()
            seconds[name] = _time_queueing(url, SEEN_SETS[name], pages)
        ratios.append(seconds["set"] / seconds["bloom"])
    return ratios


def _time_queueing(url: str, dupefilter: str, pages: int) -> float:
    settings = {"REDIS_URL": url, "DUPEFILTER_CLASS": dupefilter, "BLOOM_CAPACITY": 1_000_000}
    crawler = get_crawler(_Bench, settings)
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(_Bench())
    template = [f"https://site.example/section/{n}" for n in range(85)]
    started = time.perf_counter()
    for page in range(pages):
        for link in [*template, *(f"https://site.example/{page}/{n}" for n in range(85))]:
            scheduler.enqueue_request(Request(link))
        scheduler.flush()
    elapsed = time.perf_counter() - started
    scheduler.close("finished")
    return elapsed


if __name__ == "__main__":
    run_measure(measure, __doc__, "50,000 URLs instead of 1,000,000")
