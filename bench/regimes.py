"""Crawls bound by what real crawls wait on: slow servers (latency) and per-site politeness (delay).

`bench.crawl` measures a zero-latency web, where a worker is CPU-bound. Here
each regime serves an uneven web (a few big sites, many small ones:
`synthweb.generate.UNEVEN_SIZES`) and every side crawls all of it, to the
end, under the same per-site limits:

- latency-bound: every response takes `latency` (500 ms) at the server,
  at most `concurrency` (2) requests in flight per site, no delay;
- politeness-bound: `delay` (1 s) between two requests to one site, one at
  a time, responses immediate.

Sides, one after the other on the same web: `bare` (bare Scrapy,
`bench.baseline`, with `CONCURRENT_REQUESTS_PER_DOMAIN` and an unrandomized
`DOWNLOAD_DELAY` set to the limits, and Scrapy's broad-crawl queue
`DownloaderAwarePriorityQueue`), `ours` (one worker, `POLITENESS_*` set to
the limits, as deployed) and `ours_x2` (two workers sharing the frontier).

Everything is measured at the server (`WebServer.requests`): a side's span
is its first request's arrival to its last one's, robots.txt included. The
bound is the least span any crawler within the same limits needs for this
web (see `bound`); efficiency is bound / span, 1.0 being the best possible.

    python bench/regimes.py [--quick] [--json]    # these alone; bench/run.py runs them with the rest
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import crawl
from bench.cli import run_measure
from linkcrawler import config
from linkcrawler.local.synthweb import Web, fetchable_pages

SIDES = ("bare", "ours", "ours_x2")
BARE_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
IDLE_CLOSE_SECONDS = 2.0
"""Our workers close this long after the frontier runs dry; it adds to their wall time, never to the span."""
SAMPLE_SECONDS = 0.1
"""Resolution of the hosts-busy measure."""


@dataclass(frozen=True)
class Regime:
    """One web and the per-site limits every side crawls it under."""

    sites: int
    pages_per_site: int
    latency: float
    concurrency: int
    delay: float
    timeout: float = 600.0


QUICK = {
    "latency_bound": Regime(sites=40, pages_per_site=10, latency=0.5, concurrency=2, delay=0.0),
    "politeness_bound": Regime(sites=40, pages_per_site=4, latency=0.0, concurrency=1, delay=1.0),
}
FULL = {
    "latency_bound": Regime(sites=40, pages_per_site=30, latency=0.5, concurrency=2, delay=0.0),
    "politeness_bound": Regime(sites=40, pages_per_site=10, latency=0.0, concurrency=1, delay=1.0),
}


def expected_requests(web: Web) -> Counter[str]:
    """Requests per host of a complete crawl: its fetchable pages and its robots.txt."""
    per_host = Counter(web.pages[url].host for url in fetchable_pages(web))
    per_host.update(site.host for site in web.sites)
    return per_host


def depths(web: Web) -> dict[str, int]:
    """Links from the nearest home page to each fetchable page, following every link of the model.

    Every link counts, whether or not a crawler follows it: more edges only
    shorten the paths, so the depth stays a lower bound for any crawler.
    """
    fetchable = fetchable_pages(web)
    depth = {url: 0 for url in web.seeds if url in fetchable}
    frontier = list(depth)
    while frontier:
        following = []
        for url in frontier:
            for link in web.pages[url].links:
                if link.target in fetchable and link.target not in depth:
                    depth[link.target] = depth[url] + 1
                    following.append(link.target)
        frontier = following
    return depth


def bound(web: Web, regime: Regime, processes: int = 1) -> dict[str, float]:
    """The least span (first to last arrival) of a complete crawl of `web` within the regime's limits.

    Three lower bounds, each valid for any crawler; the bound is the largest:

    - per site: n requests to one site, at most `concurrency` in flight, each
      `latency` long, and starts `delay` apart: the last starts at least
      max((n - 1) * delay, (ceil(n / concurrency) - 1) * latency) after the first;
    - depth: robots.txt, then the home page, then each link level, each one
      waiting for the response before it: (depth + 1) * latency;
    - concurrency: all requests, `CONCURRENT_REQUESTS` per process in flight:
      (ceil(total / (CONCURRENT_REQUESTS * processes)) - 1) * latency.
    """
    per_host = expected_requests(web)
    site = max(
        max((n - 1) * regime.delay, (math.ceil(n / regime.concurrency) - 1) * regime.latency) for n in per_host.values()
    )
    depth = (max(depths(web).values()) + 1) * regime.latency
    total = sum(per_host.values())
    concurrency = (math.ceil(total / (config.default("CONCURRENT_REQUESTS") * processes)) - 1) * regime.latency
    return {"bound": max(site, depth, concurrency), "site": site, "depth": depth, "concurrency": concurrency}


def span(arrivals: list[tuple[str, str, float]]) -> float:
    """First to last arrival."""
    times = [arrival for *_, arrival in arrivals]
    return max(times) - min(times)


def hosts_busy(arrivals: list[tuple[str, str, float]], hold: float) -> float:
    """Mean number of sites kept busy over the span: a request holds its site for `hold` after its arrival.

    With `hold` the longer of the latency and the delay, this is how many
    sites the crawl works on at once; the best possible is every site that
    still has requests left.
    """
    start, end = min(t for *_, t in arrivals), max(t for *_, t in arrivals) + hold
    steps = max(1, round((end - start) / SAMPLE_SECONDS))
    busy: list[set[str]] = [set() for _ in range(steps)]
    for host, _, arrival in arrivals:
        first = int((arrival - start) / SAMPLE_SECONDS)
        last = min(steps, int((arrival + hold - start) / SAMPLE_SECONDS) + 1)
        for step in range(first, last):
            busy[step].add(host)
    return sum(map(len, busy)) / steps


def side_settings(side: str, regime: Regime) -> dict[str, Any]:
    """The regime's per-site limits as each side takes them (Scrapy's per process, ours across workers)."""
    settings: dict[str, Any] = {"CONCURRENT_REQUESTS_PER_DOMAIN": regime.concurrency}
    if side == "bare":
        return {
            **settings,
            "DOWNLOAD_DELAY": regime.delay,
            "RANDOMIZE_DOWNLOAD_DELAY": "False",  # Scrapy's default would send some requests 0.5 x delay apart
            "SCHEDULER_PRIORITY_QUEUE": BARE_QUEUE,
        }
    return {
        **settings,
        "POLITENESS_CONCURRENCY": regime.concurrency,
        "POLITENESS_DELAY": regime.delay,
        "IDLE_CLOSE_SECONDS": IDLE_CLOSE_SECONDS,
    }


def measure_regime(regime: Regime, mongo_uri: str | None = None) -> dict[str, Any]:
    """Every side's complete crawl of the regime's web: span, requests, efficiency against the bound."""
    plan = crawl.Plan(regime.sites, regime.pages_per_site, warmup=0, pages=0, rounds=1, timeout=regime.timeout)
    result: dict[str, Any] = {}
    with crawl.CrawlBench(plan, mongo_uri, latency=regime.latency, uneven=True) as bench:
        web = bench.server.web
        bounds = {processes: bound(web, regime, processes) for processes in (1, 2)}
        result["bound"] = {key: round(value, 2) for key, value in bounds[1].items()}
        result["expected_requests"] = sum(expected_requests(web).values())
        for side in SIDES:
            bench.server.reset_stats()
            bench.run(side, side_settings(side, regime), to_the_end=True)
            arrivals = bench.server.requests()
            taken = span(arrivals)
            result[side] = {
                "span": round(taken, 2),
                "requests": len(arrivals),
                "efficiency": round(bounds[2 if side == "ours_x2" else 1]["bound"] / taken, 3),
                "hosts_busy": round(hosts_busy(arrivals, max(regime.latency, regime.delay)), 1),
            }
    return result


def measure(regimes: dict[str, Regime], mongo_uri: str | None = None) -> dict[str, Any]:
    """The headline keys of each regime (`{name}_efficiency`, `_vs_bare`, ...) and each side's figures."""
    result: dict[str, Any] = {}
    for name, regime in regimes.items():
        sides = measure_regime(regime, mongo_uri)
        ours, bare, two = sides["ours"]["span"], sides["bare"]["span"], sides["ours_x2"]["span"]
        result[f"{name}_efficiency"] = sides["ours"]["efficiency"]
        result[f"{name}_bare_efficiency"] = sides["bare"]["efficiency"]
        result[f"{name}_vs_bare"] = round(bare / ours, 3)
        result[f"{name}_two_workers_vs_one"] = round(ours / two, 3)
        result[name] = sides
    return result


if __name__ == "__main__":
    run_measure(lambda quick: measure(QUICK if quick else FULL), __doc__, "smaller webs (about three minutes)")
