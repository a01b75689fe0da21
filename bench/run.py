"""The benchmark suite: our crawler against what users would run instead, measured side by side in one run.

    python bench/run.py [--quick] [--json] [--sections crawl,network,...]

Serves a synthetic web on loopback, starts an embedded Redis, and measures
(see each module's docstring for exactly what runs on each side):

- `bench.crawl`: worker_vs_bare_scrapy, worker_vs_bare_scrapy_cpu (CPU per page,
  bare over ours), worker_vs_floor_cpu and bare_vs_floor_cpu (CPU per page of
  Scrapy fetching the same pages and parsing none, over ours and over bare
  Scrapy's), worker_vs_stock_scrapy_redis,
  two_workers_vs_one (pages per second of real `scrapy crawl` processes);
- `bench.crawl.measure_network`: network_worker_vs_bare_scrapy, the same
  crawl with the workers' Redis (and MongoDB, if `MONGO_URI` names one on
  loopback) behind a proxy adding network_delay_ms_each_way (0.25 ms) each
  way, as servers on other machines would be; bare Scrapy uses neither;
- `bench.store`: mongo_round_trips_per_1000_links, and the store stage on
  its own when no MongoDB is given (`MONGO_URI=mongodb://...` puts a real
  one inside the worker's measurement instead);
- `bench.regimes`: latency_bound_efficiency, politeness_bound_efficiency,
  latency_bound_vs_bare, politeness_bound_vs_bare,
  latency_bound_two_workers_vs_one (whole crawls of a web served with 500 ms
  latency or a 1 s per-site delay, timed at the server against the least
  time any crawler needs), and bare Scrapy's own efficiency;
- the modules in `SECTIONS`, each a `measure(quick) -> dict`:
  `bench.extract` gives extract_vs_lxml_parse; `bench.explorer` the Site
  Explorer's worst p95 per view in milliseconds (not a ratio: a time on this
  machine, with the goal it is held to).

Only ratios are comparable: every number in one output comes from the same
run on the same machine, never compare them across runs. `--quick` (one
round of small crawls) takes about five minutes on a 2-core machine, three
of them in the regimes; the full run, nine rounds of bigger crawls (the
CPU-bound ratios move by 0.15 from round to round even on a quiet machine,
so the median needs many; as many across the network) and bigger regime
webs, about 18 minutes on a quiet machine, more on a shared one, and the
summarize section's full sizes (up to 400,000 links in the emulation) about
as long again. `--sections` runs some of them only (`crawl` includes the
store); the keys of the others are null.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import crawl, regimes, store
from linkcrawler.errors import UserError, mask_uri
from linkcrawler.store.mongo import get_database

KEYS = (
    "worker_vs_bare_scrapy", "worker_vs_bare_scrapy_cpu", "worker_vs_floor_cpu", "bare_vs_floor_cpu",
    "worker_vs_stock_scrapy_redis", "extract_vs_lxml_parse",
    "two_workers_vs_one", "network_worker_vs_bare_scrapy", "network_delay_ms_each_way",
    "bloom_bytes_per_url", "bloom_false_positive_rate", "fingerprint_set_bytes_per_url", "bloom_queueing_vs_set",
    "mongo_round_trips_per_1000_links",
    "summarize_incremental_vs_full_matched", "summarize_incremental_vs_full_seconds",
    "explorer_worst_p95_ms_demo", "explorer_worst_p95_ms_index",
    "latency_bound_efficiency", "politeness_bound_efficiency", "latency_bound_vs_bare", "politeness_bound_vs_bare",
    "latency_bound_two_workers_vs_one", "latency_bound_bare_efficiency", "politeness_bound_bare_efficiency",
)  # fmt: skip
"""The headline numbers, at the top level of the result; everything else a section reports goes in `details`."""

SECTIONS = ("bench.extract", "bench.bloom", "bench.summarize", "bench.explorer")
"""Modules with a `measure(quick) -> dict` besides the crawl and the store; add a module here to report its keys."""

SECTION_NAMES = ("crawl", "network", "regimes", *(name.rpartition(".")[2] for name in SECTIONS))
"""What `--sections` chooses from."""

REAL_MONGO_SCHEMES = ("mongodb://", "mongodb+srv://")


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo().splitlines() if line.startswith("model name")), "unknown"
    )
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def _cpuinfo() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def real_mongo_uri() -> str | None:
    """`MONGO_URI` if it names a real MongoDB (checked now, so a dead one fails before any crawl)."""
    uri = os.environ.get("MONGO_URI", "").strip()
    if not uri.startswith(REAL_MONGO_SCHEMES):
        return None
    get_database(uri, "linkcrawler_bench").client.close()
    return uri


def measure(
    quick: bool = False,
    plan: crawl.Plan | None = None,
    regime_plans: dict[str, regimes.Regime] | None = None,
    only: tuple[str, ...] = SECTION_NAMES,
) -> dict[str, Any]:
    """The benchmarks `only` names, as one flat dict (`plan` and `regime_plans` override the crawl sizes, for tests)."""
    mongo_uri = real_mongo_uri()
    sections: dict[str, dict[str, Any]] = {}
    crawl_plan = plan or (crawl.QUICK if quick else crawl.FULL)
    if "crawl" in only:
        with crawl.CrawlBench(crawl_plan, mongo_uri) as bench:
            rounds = crawl.measure_rounds(bench)
            sections["crawl"] = crawl.summarize(rounds)
            sections["store"] = store.measure(rounds[0]["ours"], mongo_uri)
    if "network" in only:
        sections["network"] = crawl.measure_network(crawl_plan, mongo_uri)
    if "regimes" in only:
        sections["regimes"] = regimes.measure(regime_plans or (regimes.QUICK if quick else regimes.FULL), mongo_uri)
    for name in SECTIONS:
        if name.rpartition(".")[2] in only:
            sections[name.rpartition(".")[2]] = importlib.import_module(name).measure(quick)
    result: dict[str, Any] = dict.fromkeys(KEYS)
    details: dict[str, dict[str, Any]] = {}
    for section, values in sections.items():
        result.update((key, value) for key, value in values.items() if key in KEYS)
        details[section] = {key: value for key, value in values.items() if key not in KEYS}
    return {
        **result,
        "store_stage": details["store"].pop("store_stage") if "store" in details else None,
        "details": details,
        "machine": machine(),
        "mongodb": mask_uri(mongo_uri) if mongo_uri else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of small crawls (under a minute)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--sections",
        default=",".join(SECTION_NAMES),
        help=f"comma-separated, of {', '.join(SECTION_NAMES)} (default: all)",
    )
    args = parser.parse_args()
    only = tuple(name.strip() for name in args.sections.split(",") if name.strip())
    unknown = sorted(set(only) - set(SECTION_NAMES))
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}: choose from {', '.join(SECTION_NAMES)}")
    try:
        result = measure(args.quick, only=only)
    except UserError as exc:
        print(f"bench/run.py: error: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.json:
        print(json.dumps(result))
        return
    for key in KEYS:
        print(f"{key:36} {result[key]}")
    print(f"{'store stage':36} {result['store_stage']}")
    for section, values in result["details"].items():
        print(f"{section}: " + ", ".join(f"{key} {value}" for key, value in values.items()))
    print(f"{'machine':36} {result['machine']}")


if __name__ == "__main__":
    main()
