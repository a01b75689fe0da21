"""Crawl speed side by side: our worker against bare Scrapy and stock scrapy-redis, and two workers against one.

    python bench/crawl.py [--quick] [--json] [--sides ours,bare,floor] [--rounds N] [--link-delay-ms MS]

Every side crawls the same synthetic web on loopback from its home pages, as
real processes started the same way (`linkcrawler.local.workers`), with the same
concurrency, robots.txt obedience and timeouts (`settings.base`), and the
same meter (`bench.meter`):

- `ours`: `scrapy crawl backlinks` as deployed: Redis frontier (JSON
  requests, shared seen-set, page budget), extraction and normalization of
  every link, the store pipeline. The store writes to MongoDB when
  `MONGO_URI` is set; otherwise to a journal on disk (what a worker without
  a database does), and `bench.store` measures MongoDB upserts on their own.
- `bare`: bare Scrapy (`bench.baseline`): in-memory scheduler, no pipelines,
  `response.follow_all` on every `a[href]`.
- `stock`: our spider and pipelines on stock scrapy-redis's scheduler
  (`scrapy_redis.scheduler.Scheduler` with its defaults: pickled requests,
  `RFPDupeFilter`, `PriorityQueue`, queue cleared on close). Only the
  frontier differs from `ours`, so the ratio is the price of what our
  frontier adds (crash safety, shared politeness, budgets).
- `floor`: Scrapy fetching every page of the web from a list and parsing
  none (`bench.baseline.FloorSpider`): what any Scrapy crawler spends per
  page before it reads a byte of it. Compared by CPU per page only: it never
  waits for a page to learn the next URL, so its pace is not a crawl's.
- `ours_x2`: two `ours` workers sharing one frontier.

A run is followed live through its meters and stopped (as Ctrl-C would)
once it has counted a fixed number of pages after a warm-up (process
start-up, the first idle wait and the first robots.txt fetches are over by
then); `BENCH_STOP_AFTER` bounds it should nobody stop it. Sides alternate within a round, in a rotating order, and
each ratio is taken within one round: the machine is shared, so only pages
per second measured side by side are compared.

Across the network (`--link-delay-ms`, `measure_network`): the workers reach
Redis, and MongoDB where `MONGO_URI` names one on loopback, through a
`bench.slowlink.SlowLink` that delays every byte that long each way, as
servers on other machines would; bare Scrapy, which uses neither, is the
same crawl as on loopback. The ratio then says what the worker's round
trips cost it: each one blocks its reactor for the link's round trip.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pymongo import uri_parser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.slowlink import SlowLink, added_ms, ping_ms
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.seeds import push_seeds
from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import WebServer, generate_web
from linkcrawler.local.synthweb.truth import fetchable_pages
from linkcrawler.local.workers import WorkerProcess, loopback_settings, worker_environment
from linkcrawler.store.mongo import get_database
from settings.base import EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]
SIDES = ("bare", "stock", "ours", "floor", "ours_x2")
STOCK_SCHEDULER = "scrapy_redis.scheduler.Scheduler"
STOPPED = (0, -signal.SIGINT)
"""Exit codes of a worker stopped by SIGINT: a graceful stop, or one interrupted before Scrapy took the signal over."""


@dataclass(frozen=True)
class Plan:
    """How big a crawl benchmark is: the web, and the pages each run counts after its warm-up."""

    sites: int
    pages_per_site: int
    warmup: int
    pages: int
    rounds: int
    timeout: float = 120.0


# The second of two workers joins after its process start-up, and up to one worker heartbeat (1 s)
# more if the first has queued nothing yet: the web must outlast that, or the two-worker window
# never opens (a 900-page web did not, when idle workers waited for Scrapy's 5 s poll).
# Nine full rounds: single rounds of unchanged code spread over 0.15 or more on a quiet 2-core machine
# (0.83-0.98 and 0.99-1.15 on one day), and five could not tell 0.94 from 0.96.
QUICK = Plan(sites=40, pages_per_site=40, warmup=50, pages=200, rounds=1)
FULL = Plan(sites=60, pages_per_site=60, warmup=300, pages=1500, rounds=9)
NETWORK_DELAY = 0.00025
"""Seconds each way between a worker and its Redis and MongoDB in `measure_network`: servers in the same data
centre, a round trip of 0.5 ms more than on loopback."""
NETWORK_SIDES = ("ours", "bare")
CALIBRATION_STEPS = 3
CALIBRATION_PINGS = 500


@dataclass
class Run:
    side: str
    pages_per_second: float
    pages: int
    stats: dict[str, int] = field(default_factory=dict)
    journal: Path | None = None
    cpu_ms_per_page: float | None = None
    round_trips_per_page: dict[str, float] = field(default_factory=dict)
    """Per link (`redis`, `mongodb`) the side's processes used: exchanges begun through it over the whole run,
    start-up and shutdown included, per page downloaded."""


@dataclass(frozen=True)
class Window:
    """The timed stretch of a run: its rate, its pages, and when it opened and closed (monotonic seconds)."""

    pages_per_second: float
    pages: int
    start: float
    end: float


def steady_window(timelines: list[list[float]], warmup: int, pages: int) -> Window | None:
    """Pages per second of processes crawling together, once `pages` pages follow the warm-up; None until then.

    The window opens once `warmup` pages are done in all and every process is
    past its share of them, so a process that started late is never measured
    alone; it closes at the `pages`-th page after that.
    """
    share = warmup // len(timelines)
    if any(len(times) <= share for times in timelines):
        return None
    merged = sorted(t for times in timelines for t in times)
    if len(merged) <= warmup:
        return None
    start = max(merged[warmup], *(times[share] for times in timelines))
    after = [t for t in merged if t > start]
    if len(after) < pages:
        return None
    return Window(pages / (after[pages - 1] - start), pages, start, after[pages - 1])


def cpu_per_page(meters: list[tuple[list[float], list[float]]], window: Window) -> float:
    """Milliseconds of CPU per page over the window, all processes together: each one's CPU time from its last page
    at or before the window opened to its last page before it closed."""
    used = 0.0
    for times, cpu in meters:
        before = [c for t, c in zip(times, cpu, strict=True) if t <= window.start]
        within = [c for t, c in zip(times, cpu, strict=True) if t <= window.end]
        if before and within:
            used += within[-1] - before[-1]
    return 1000 * used / window.pages


def read_meter(path: Path) -> tuple[list[float], dict[str, int] | None, list[float]]:
    """Page timestamps written so far by `bench.meter`, its stats once the crawl has closed, and the process's CPU
    seconds at each page."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return [], None, []
    lines = text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]
    stats = json.loads(lines.pop()) if lines and lines[-1].startswith("{") else None
    pairs = [line.split() for line in lines]
    return [float(p[0]) for p in pairs], stats, [float(p[1]) for p in pairs]


class CrawlBench:
    """A synthetic web, an embedded Redis and a work directory for the runs; a context manager."""

    def __init__(self, plan: Plan, mongo_uri: str | None = None, *, latency: float = 0.0, uneven: bool = False,
                 link_delay: float = 0.0) -> None:  # fmt: skip
        """`latency` (seconds per response) and `uneven` (site sizes) shape the web for `bench.regimes`;
        `link_delay` (seconds each way) puts the workers' Redis and MongoDB across a `SlowLink`."""
        self.plan = plan
        self.mongo_uri = mongo_uri
        self.link_delay = link_delay
        self.links: dict[str, SlowLink] = {}
        self._link_stack = ExitStack()
        self.database = f"linkcrawler_bench_{uuid.uuid4().hex[:8]}"
        self._tmp = tempfile.TemporaryDirectory(prefix="linkcrawler-bench-")
        self.workdir = Path(self._tmp.name)
        web = generate_web(seed=1, sites=plan.sites, pages_per_site=plan.pages_per_site, uneven=uneven)
        self._web = WebServer(web, delay=latency)
        self._redis = EmbeddedRedis()
        self._runs = 0

    def __enter__(self) -> CrawlBench:
        try:
            self.server = self._web.start()
            self.redis_url = self._redis.start().url
            self.redis = connect_redis(self.redis_url)
            self.worker_redis_url, self.worker_mongo_uri = self.redis_url, self.mongo_uri
            if self.link_delay:
                self._link_services()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _link_services(self) -> None:
        """Give the workers Redis, and MongoDB if it is on loopback, through slow links (the bench itself keeps
        its direct client: seeding and flushing are not the workers' round trips)."""
        redis_link = self.links["redis"] = SlowLink(("127.0.0.1", self._redis.port), self.link_delay)
        self._link_stack.enter_context(redis_link)
        self.worker_redis_url = redis_link.url()
        through = connect_redis(self.worker_redis_url)
        calibrate(redis_link, self.link_delay, self.redis, through)
        through.close()
        node = loopback_mongodb(self.mongo_uri) if self.mongo_uri else None
        if node is not None:  # the same relay's cost: the delay calibrated on Redis
            mongo_link = self.links["mongodb"] = SlowLink(node, redis_link.delay)
            self._link_stack.enter_context(mongo_link)
            self.worker_mongo_uri = through_port(self.mongo_uri, mongo_link.port)

    def ping_ms(self) -> dict[str, float]:
        """How far Redis is: a PING's median milliseconds from here, directly and through the workers' link, what
        the link adds to it, and the delay the link was set to once calibrated."""
        measured = {"redis_ping_ms_direct": ping_ms(self.redis)}
        if "redis" in self.links:
            client = connect_redis(self.worker_redis_url)
            measured["redis_ping_ms_link"] = ping_ms(client)
            measured["redis_link_adds_ms"] = added_ms(self.redis, client)
            client.close()
            measured["link_delay_ms_set"] = round(1000 * self.links["redis"].delay, 3)
        return measured

    def __exit__(self, *exc_info: object) -> None:
        self._link_stack.close()
        self._web.stop()
        self._redis.stop()
        if self.mongo_uri:
            get_database(self.mongo_uri, self.database).client.drop_database(self.database)
        self._tmp.cleanup()

    def run(self, side: str, settings: dict[str, Any] | None = None, to_the_end: bool = False) -> Run:
        """Crawl from the seeds with a fresh frontier until the page count, and time it.

        `settings` are added to the side's; `to_the_end` lets the crawl run
        until every process has closed by itself (within `plan.timeout`),
        for runs measured as a whole (`bench.regimes`).
        """
        self._runs += 1
        rundir = self.workdir / f"{self._runs}-{side}"
        rundir.mkdir()
        self.redis.flushdb()
        workers = 2 if side == "ours_x2" else 1
        journal = None if self.mongo_uri else rundir / "journal"
        env, options, spider = self._side(side, journal)
        options.update(settings or {})
        # The meter on every side; the project's own extensions on our worker's sides only: bare Scrapy and the
        # floor are Scrapy as it comes (its cycle collector untuned, linkcrawler.garbage).
        project = EXTENSIONS if spider == keys.SPIDER_NAME else {}
        options["EXTENSIONS"] = json.dumps({**project, "bench.meter.PageMeter": 0})
        if not to_the_end:
            # Only a bound for a run nobody stops: generous, because a second worker joins up to one engine idle
            # poll (5 s) after the first, which must not have stopped by then.
            options["BENCH_STOP_AFTER"] = 10 * (self.plan.warmup + self.plan.pages)
        meters = [rundir / f"meter-{n}.txt" for n in range(workers)]
        processes = [
            WorkerProcess(env, {**options, "BENCH_METER_FILE": meter}, rundir / f"worker-{n}.log", spider=spider)
            for n, meter in enumerate(meters)
        ]
        if spider == keys.SPIDER_NAME:
            push_seeds(self.redis, self.server.seeds)
        exchanges = {name: link.round_trips for name, link in self.links.items()}
        for process in processes:
            process.start()
        cpu = None
        try:
            if to_the_end:
                rate, pages = self._wait(processes, meters)
            else:
                window = self._follow(processes, meters)
                rate, pages = window.pages_per_second, window.pages
                cpu = cpu_per_page([(times, cpus) for times, _, cpus in map(read_meter, meters)], window)
        finally:
            codes = [process.stop() for process in processes]
        if any(code not in STOPPED for code in codes):
            logs = "\n".join(p.log_tail() for p in processes)
            raise RuntimeError(f"a benchmark crawl failed (exit codes {codes}); worker logs:\n{logs}")
        stats: dict[str, int] = {}
        downloaded = 0
        for meter in meters:
            times, closing, _ = read_meter(meter)
            downloaded += len(times)
            for key, value in (closing or {}).items():
                stats[key] = stats.get(key, 0) + value
        begun = {name: link.round_trips - exchanges[name] for name, link in self.links.items()}
        per_page = {name: count / max(downloaded, 1) for name, count in begun.items() if count}
        return Run(side, rate, pages, stats, journal, cpu, per_page)

    def _follow(self, processes: list[WorkerProcess], meters: list[Path]) -> Window:
        """Watch the meters until the window is complete; the caller then stops the workers (as Ctrl-C would)."""
        deadline = time.monotonic() + self.plan.timeout
        while time.monotonic() < deadline:
            window = steady_window([read_meter(m)[0] for m in meters], self.plan.warmup, self.plan.pages)
            if window is not None:
                return window
            if not all(p.running() for p in processes):
                break
            time.sleep(0.1)
        logs = "\n".join(p.log_tail() for p in processes)
        raise RuntimeError(f"a benchmark crawl ended or timed out before {self.plan.pages} pages; logs:\n{logs}")

    def _wait(self, processes: list[WorkerProcess], meters: list[Path]) -> tuple[float, int]:
        """Wait for every process to close by itself; pages per second from the first page to the last."""
        deadline = time.monotonic() + self.plan.timeout
        while any(p.running() for p in processes):
            if time.monotonic() > deadline:
                logs = "\n".join(p.log_tail() for p in processes)
                raise RuntimeError(f"a benchmark crawl did not end within {self.plan.timeout:.0f} s; logs:\n{logs}")
            time.sleep(0.1)
        times = sorted(t for meter in meters for t in read_meter(meter)[0])
        if len(times) < 2:
            raise RuntimeError(f"a benchmark crawl ended after {len(times)} pages")
        return (len(times) - 1) / (times[-1] - times[0]), len(times)

    def _side(self, side: str, journal: Path | None) -> tuple[dict[str, str], dict[str, Any], str]:
        mongo_uri = self.worker_mongo_uri or f"journal://{journal}"
        extra = {"PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
        if self.mongo_uri:
            extra["MONGO_DATABASE"] = self.database
        options: dict[str, Any] = loopback_settings(self.server.hosts, idle_close_seconds=10)
        if side in ("bare", "floor"):
            extra["SCRAPY_SETTINGS_MODULE"] = "bench.baseline"
            options["BENCH_SEEDS"] = json.dumps(self.server.seeds)
            if side == "floor":
                options["BENCH_URLS_FILE"] = self._page_list()
            return worker_environment(self.worker_redis_url, mongo_uri, extra), options, side
        if side == "stock":
            options["SCHEDULER"] = STOCK_SCHEDULER
        return worker_environment(self.worker_redis_url, mongo_uri, extra), options, keys.SPIDER_NAME

    def _page_list(self) -> Path:
        """Every page a crawl of the web fetches, written once as a JSON list, one site after another in turn (as a
        crawl spreads over sites) so that no site's politeness limit sets the pace."""
        path = self.workdir / "pages.json"
        if not path.exists():
            by_host: dict[str, list[str]] = {}
            for url in sorted(fetchable_pages(self.server.web)):
                by_host.setdefault(url.split("/", 3)[2], []).append(url)
            turns = zip_longest(*by_host.values())
            path.write_text(json.dumps([url for turn in turns for url in turn if url is not None]))
        return path


def calibrate(link: SlowLink, delay: float, direct: Any, through: Any) -> None:
    """Take the link's own cost (two hops through Python, its timers' wake-ups: 0.2 to 0.4 ms a round trip) off
    its delay, so that a PING through it takes `2 * delay` more than one sent directly, as it would to a server
    that far away; `direct` and `through` are Redis clients without and with the link."""
    for _ in range(CALIBRATION_STEPS):
        excess = added_ms(direct, through, CALIBRATION_PINGS) / 2000 - delay
        link.delay = max(0.0, link.delay - excess)


def loopback_mongodb(uri: str) -> tuple[str, int] | None:
    """The address of a MongoDB URI that names one server on loopback (one a `SlowLink` can stand before); None
    for any other (a replica set's several hosts, a DNS seed list, another machine: already far)."""
    if not uri.startswith("mongodb://"):
        return None
    nodes = uri_parser.parse_uri(uri)["nodelist"]
    if len(nodes) != 1:
        return None
    host, port = nodes[0]
    host = "127.0.0.1" if host == "localhost" else host
    return (host, int(port)) if host.startswith("127.") else None


def through_port(uri: str, port: int) -> str:
    """`uri` (one server on loopback) pointed at 127.0.0.1:`port`, connected directly: a driver that discovered
    a replica set's members would connect to their own addresses, around the link."""
    parts = urlsplit(uri)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
    options = [option for option in parts.query.split("&") if option and not option.lower().startswith("directc")]
    query = "&".join([*options, "directConnection=true"])
    return parts._replace(netloc=netloc, path=parts.path or "/", query=query).geturl()


RATIOS = {
    "worker_vs_bare_scrapy": ("ours", "bare", "pages_per_second"),
    "worker_vs_bare_scrapy_cpu": ("bare", "ours", "cpu_ms_per_page"),
    "worker_vs_floor_cpu": ("floor", "ours", "cpu_ms_per_page"),
    "bare_vs_floor_cpu": ("floor", "bare", "cpu_ms_per_page"),
    "worker_vs_stock_scrapy_redis": ("ours", "stock", "pages_per_second"),
    "two_workers_vs_one": ("ours_x2", "ours", "pages_per_second"),
}
"""Each ratio: (side over, side under, what is compared). CPU ratios put the other side on top: more is better."""


def ratios(runs: dict[str, Run]) -> dict[str, float]:
    """The ratios of one round, those whose two sides it ran."""
    return {
        name: getattr(runs[over], measured) / getattr(runs[under], measured)
        for name, (over, under, measured) in RATIOS.items()
        if over in runs and under in runs
    }


def measure_rounds(bench: CrawlBench, sides: tuple[str, ...] = SIDES) -> list[dict[str, Run]]:
    """`plan.rounds` rounds of every side, each round in a different order."""
    rounds = []
    for n in range(bench.plan.rounds):
        order = sides[n % len(sides) :] + sides[: n % len(sides)]
        rounds.append({side: bench.run(side) for side in order})
    return rounds


def summarize(rounds: list[dict[str, Run]]) -> dict[str, Any]:
    """Median ratios over rounds, and each side's median pages per second for context; the main ratios round by
    round too, since one machine's speed drifts between runs."""
    per_round = [ratios(runs) for runs in rounds]
    result: dict[str, Any] = {key: round(statistics.median(r[key] for r in per_round), 3) for key in per_round[0]}
    for key in ("worker_vs_bare_scrapy", "worker_vs_floor_cpu"):
        if key in per_round[0]:
            result[f"{key}_by_round"] = [round(r[key], 3) for r in per_round]
    for side in rounds[0]:
        result[f"{side}_pages_per_second"] = round(statistics.median(r[side].pages_per_second for r in rounds), 1)
        result[f"{side}_cpu_ms_per_page"] = round(statistics.median(r[side].cpu_ms_per_page for r in rounds), 2)
        for link in rounds[0][side].round_trips_per_page:
            result[f"{side}_{link}_round_trips_per_page"] = round(
                statistics.median(r[side].round_trips_per_page.get(link, 0.0) for r in rounds), 2
            )
    result["pages_per_run"] = round(statistics.median(next(iter(r.values())).pages for r in rounds))
    return result


def measure_network(plan: Plan, mongo_uri: str | None = None, delay: float = NETWORK_DELAY) -> dict[str, Any]:
    """Our worker against bare Scrapy, its Redis (and a loopback MongoDB) `delay` seconds away each way: the
    `network_*` headline keys, and the rounds' figures as `summarize` gives them."""
    with CrawlBench(plan, mongo_uri, link_delay=delay) as bench:
        distance = bench.ping_ms()
        summary = summarize(measure_rounds(bench, NETWORK_SIDES))
        linked = sorted(bench.links)
    if mongo_uri and "mongodb" not in linked:
        linked.append("mongodb as given (not one server on loopback)")
    return {
        "network_worker_vs_bare_scrapy": summary.pop("worker_vs_bare_scrapy"),
        "network_worker_vs_bare_scrapy_cpu": summary.pop("worker_vs_bare_scrapy_cpu"),
        "network_delay_ms_each_way": round(delay * 1000, 3),
        "through_the_link": linked,
        **distance,
        **summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of small crawls")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sides", default=",".join(SIDES), help=f"comma-separated, of {', '.join(SIDES)}")
    parser.add_argument("--rounds", type=int, help="rounds instead of the plan's")
    parser.add_argument(
        "--link-delay-ms", type=float, default=0.0, help="the workers' Redis this far away each way (a SlowLink)"
    )
    args = parser.parse_args()
    sides = tuple(args.sides.split(","))
    if unknown := set(sides) - set(SIDES):
        parser.error(f"unknown sides: {', '.join(sorted(unknown))}")
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = replace(plan, rounds=args.rounds)
    with CrawlBench(plan, link_delay=args.link_delay_ms / 1000) as bench:
        result = {**bench.ping_ms(), **summarize(measure_rounds(bench, sides))}
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
