"""Redis memory per URL and the real false-positive rate: the Bloom dupefilter against scrapy-redis's fingerprint set.

    python bench/bloom.py [--quick] [--json]

Both seen-sets get the same N request fingerprints (scrapy-redis's own
`request_fingerprint` of N distinct URLs on 1,000 sites) in one embedded
Valkey. Memory is Redis's own account, `MEMORY USAGE key SAMPLES 0`, summed
over every key of each seen-set. The Bloom filter is sized for exactly N
URLs at a 0.1% false-positive rate, filled to capacity, then probed with N/2
URLs it never saw (read only, so probing does not fill it further): the
share it claims to have seen is the real false-positive rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scrapy import Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scrapy_redis.dupefilter import RFPDupeFilter

from bench.cli import run_measure
from linkcrawler.bloom import BloomFilter, BloomLayout
from linkcrawler.connection import connect_redis
from linkcrawler.embedded import EmbeddedRedis

ERROR_RATE = 0.001
CHUNK = 10_000


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
        redis.close()
    return {
        "bloom_bytes_per_url": round(bloom_bytes / urls, 3),
        "bloom_false_positive_rate": round(false_positives / len(unseen), 5),
        "fingerprint_set_bytes_per_url": round(set_bytes / urls, 1),
        "urls": urls,
        "configured_error_rate": ERROR_RATE,
        "bloom_partitions": bloom.layout.partitions,
        "bloom_hashes": bloom.layout.hashes,
    }


if __name__ == "__main__":
    run_measure(measure, __doc__, "50,000 URLs instead of 1,000,000")
