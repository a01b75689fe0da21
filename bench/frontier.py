"""What crash safety and shared politeness cost: one worker's pages/s with and without them, side by side.

    python bench/frontier.py [--quick] [--json]

Three configurations crawl the same synthetic web (served on loopback, no
delay, so the worker is the bottleneck), one worker each, a fresh embedded
Redis and database per crawl, in alternating order round after round:

- `ours`: the defaults, leases and shared politeness on (the politeness
  concurrency set to Scrapy's per-process CONCURRENT_REQUESTS_PER_DOMAIN, so
  what is measured is the cost of the Redis slots, not a stricter policy);
- `bare`: our scheduler with FRONTIER_LEASES and POLITENESS_ENABLED off;
- `stock`: scrapy-redis's own scheduler (pickled requests, its dupefilter).

Pages/s is taken from the stored pages' fetch times (first to last), so
process start-up and the idle wait before closing do not count. The result
is the median over rounds of each ratio: 1.0 means free.
"""

from __future__ import annotations

import statistics
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cli import run_measure
from linkcrawler.local.demo import LocalCrawl
from linkcrawler.local.synthweb import WebServer, generate_web

COMMON = {"CONCURRENT_REQUESTS_PER_DOMAIN": 4, "LOG_LEVEL": "WARNING", "IDLE_CLOSE_SECONDS": 1}
CONFIGS: dict[str, dict[str, Any]] = {
    "ours": {**COMMON, "POLITENESS_CONCURRENCY": 4},
    "bare": {**COMMON, "FRONTIER_LEASES": False, "POLITENESS_ENABLED": False},
    "stock": {**COMMON, "POLITENESS_ENABLED": False, "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
              "SCHEDULER_PERSIST": True},
}  # fmt: skip


def pages_per_second(server: WebServer, settings: dict[str, Any]) -> float:
    with LocalCrawl(database=f"bench_{uuid.uuid4().hex[:8]}") as crawl:
        crawl.crawl(server.seeds, server.hosts, workers=1, timeout=600, settings=settings)
        times = sorted(doc["fetched_at"] for doc in crawl.store.pages.find({}, {"fetched_at": 1}))
    return (len(times) - 1) / (times[-1] - times[0]).total_seconds()


def measure(quick: bool = False) -> dict[str, float]:
    sites, rounds = (20, 1) if quick else (30, 3)
    rates: dict[str, list[float]] = {name: [] for name in CONFIGS}
    with WebServer(generate_web(seed=11, sites=sites, pages_per_site=20)) as server:
        for round_number in range(rounds):
            order = list(CONFIGS) if round_number % 2 == 0 else list(reversed(CONFIGS))
            for name in order:
                rates[name].append(pages_per_second(server, CONFIGS[name]))
    return {
        "frontier_ours_vs_bare": _median_ratio(rates["ours"], rates["bare"]),
        "frontier_ours_vs_stock": _median_ratio(rates["ours"], rates["stock"]),
        **{f"frontier_{name}_pages_per_s": round(statistics.median(r), 1) for name, r in rates.items()},
    }


def _median_ratio(ours: list[float], baseline: list[float]) -> float:
    return round(statistics.median(o / b for o, b in zip(ours, baseline, strict=True)), 3)


if __name__ == "__main__":
    run_measure(measure, __doc__, "one round on a smaller web")
