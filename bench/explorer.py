"""The Site Explorer's server time per view: p50 and p95 over repeated requests, on the demo's data and on a
generated index, on the emulation.

    python bench/explorer.py [--quick] [--json]

Each view is requested in-process through Starlette's `TestClient` against
`linkcrawler.explorer.app.create_app`, as `linkcrawler serve` builds it; a
request's server time is its wall time there (routing, every query, the
rendering; no socket), and its CPU time (`cpu_p50_ms`, `cpu_p95_ms`), which
a shared machine's load does not inflate. Each view is asked once to warm up, then `REPEATS`
times (`--quick`: `QUICK_REPEATS`). Views: home, overview, backlinks (the
first page and a later one, reached through the keyset tokens), referring
domains (most links first, and most dofollow first), anchors, new, lost,
broken, page (the domain's most linked URL), compare (the five domains of
highest authority), intersect (three of them against the domain) and two
exports (the backlinks and the intersect as CSV); the domain is the one
with the most live backlinks.

Datasets:

- `demo`: the demo's web (`linkcrawler demo`'s defaults: 30 sites of 20
  pages, seed 1) crawled by two workers, then its second version crawled as
  a new run so that new, lost and broken links exist, and summarized; read
  as `linkcrawler serve --mongo-uri mongomock:///FOLDER` reads the demo's
  folder. Views should answer within 300 ms at p95 there.
- `links_N`: `bench.summarize`'s generated index of N links (sites of 10
  pages, 20 external links a page, about 100 backlinks a domain), loaded as
  that bench loads it (tiles of 25,000 links, the first through the store)
  and summarized in full: 100,000 links (`--quick`: 10,000).

Both are read on the emulation, which answers lookups on the fields the
store, the job and the views look up by from an index
(`linkcrawler.internals.mongomock_private`), as a server would. Timings on
the emulation say where the time goes in Python (templates, rows, the
emulation's own matching); they are not a MongoDB server's.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from starlette.testclient import TestClient

from bench import summarize as summarize_bench
from bench.cli import run_measure
from linkcrawler.explorer.app import create_app
from linkcrawler.explorer.views import Sources
from linkcrawler.local.demo import LocalCrawl, synthetic_web
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.job import summarize
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database

REPEATS = 40
QUICK_REPEATS = 10
INDEX_LINKS = 100_000
QUICK_INDEX_LINKS = 10_000
GOAL_MS = 300.0
VIEWS = ("home", "overview", "backlinks", "backlinks_later_page", "referring_domains", "referring_domains_dofollow",
         "anchors", "new", "lost", "broken", "page", "compare", "intersect", "export_backlinks_csv",
         "export_intersect_csv")  # fmt: skip


@dataclass(frozen=True)
class DemoWeb:
    """The synthetic web the demo crawls (its defaults), crawled twice."""

    sites: int = 30
    pages: int = 20
    seed: int = 1
    workers: int = 2


@contextmanager
def demo_database(web: DemoWeb) -> Iterator[Any]:
    """The demo's data, two runs of it, summarized after each as scheduled runs would be; dropped afterwards."""
    name = f"bench_explorer_{uuid.uuid4().hex[:8]}"
    with synthetic_web(web.seed, web.sites, web.pages) as server, LocalCrawl(database=name) as crawl:
        try:
            for version in (1, 2):
                if version == 2:
                    server.set_version(2)
                crawl.crawl(server.seeds, server.hosts, workers=web.workers, timeout=600, new_run=version == 2)
                summarize(crawl.store.db)
            yield crawl.store.db
        finally:
            crawl.store.db.client.drop_database(name)


@contextmanager
def index_database(links: int) -> Iterator[Any]:
    """`bench.summarize`'s generated index of about `links` links, loaded as it loads them and summarized."""
    web = summarize_bench.Web.of_size(links)
    items, _ = web.first_crawl(seed=1)
    name = f"bench_explorer_{uuid.uuid4().hex[:8]}"
    database = get_database(f"mongomock://bench-explorer-{uuid.uuid4().hex}", name)
    try:
        LinkStore(database).ensure_indexes()
        summarize_bench.load(database, web, items)
        summarize(database, everything=True)
        yield database
    finally:
        database.client.drop_database(name)


def view_paths(client: TestClient, db: Any) -> dict[str, str]:
    """Each view's path on this data: the domain with the most live backlinks, its later page, its top URL."""
    best = db[PROFILES].find_one({}, {"backlinks.live": 1, "top_pages": 1}, sort=[("backlinks.live", -1), ("_id", 1)])
    if best is None:
        raise RuntimeError("no profile: the dataset has no summarized domain")
    domain = best["_id"]
    leaders = [row["_id"] for row in db[PROFILES].find({}, {"_id": 1}, sort=[("authority", -1), ("_id", 1)], limit=5)]
    rivals = [name for name in leaders if name != domain][:3]
    top = best.get("top_pages") or [{"url": f"http://{domain}/"}]
    base = f"/d/{domain}"
    gap = urlencode([*(("c", name) for name in rivals), ("not", domain)])
    return {
        "home": "/",
        "overview": base,
        "backlinks": f"{base}/backlinks",
        "backlinks_later_page": later_page(client, f"{base}/backlinks"),
        "referring_domains": f"{base}/referring-domains",
        "referring_domains_dofollow": f"{base}/referring-domains?sort=dofollow",
        "anchors": f"{base}/anchors",
        "new": f"{base}/new",
        "lost": f"{base}/lost",
        "broken": f"{base}/broken",
        "page": "/page?" + urlencode({"url": top[0]["url"]}),
        "compare": "/compare?" + urlencode([("d", name) for name in [domain, *rivals]]),
        "intersect": f"/intersect?{gap}",
        "export_backlinks_csv": f"{base}/backlinks.csv",
        "export_intersect_csv": f"/intersect.csv?{gap}",
    }


def later_page(client: TestClient, path: str, pages: int = 3) -> str:
    """The backlinks page `pages` pages in, following each page's next token (the last one there is)."""
    current = path
    for _ in range(pages - 1):
        found = client.get(current + ".json" if "?" not in current else current.replace("?", ".json?", 1))
        token = found.json().get("next")
        if not token:
            break
        current = f"{path}?{urlencode({'after': token})}"
    return current


def time_view(client: TestClient, path: str, repeats: int) -> dict[str, float]:
    """p50 and p95 of the request's wall time in milliseconds, after one request to warm up; and of its CPU time.

    The process does nothing but answer, so its CPU time per request is the
    server's work alone: on a shared machine the wall time also holds the
    waits for a core, the CPU time does not.
    """
    check(client.get(path), path)
    wall, cpu = [], []
    for _ in range(repeats):
        started, used = time.perf_counter(), time.process_time()
        response = client.get(path)
        wall.append(1000 * (time.perf_counter() - started))
        cpu.append(1000 * (time.process_time() - used))
        check(response, path)
    wall.sort()
    cpu.sort()
    return {
        "p50_ms": round(statistics.median(wall), 1),
        "p95_ms": round(percentile(wall, 0.95), 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": round(percentile(cpu, 0.95), 1),
    }


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def check(response: Any, path: str) -> None:
    if response.status_code != 200:
        first = re.sub(r"\s+", " ", response.text)[:300]
        raise RuntimeError(f"{path} answered {response.status_code}: {first}")


def measure_views(db: Any, repeats: int) -> dict[str, Any]:
    """Every view's p50 and p95 on `db`, and the worst p95."""
    with TestClient(create_app(Sources(db, "bench"))) as client:
        paths = view_paths(client, db)
        views = {name: time_view(client, paths[name], repeats) for name in VIEWS}
    worst = max(views, key=lambda name: views[name]["p95_ms"])
    return {
        "links": db["links"].estimated_document_count(),
        "domain": paths["overview"].removeprefix("/d/"),
        "repeats": repeats,
        "views": views,
        "worst_view": worst,
        "worst_p95_ms": views[worst]["p95_ms"],
        "paths": paths,
    }


def measure(quick: bool = False, demo: DemoWeb | None = None, index_links: int | None = None) -> dict[str, Any]:
    """Both datasets' views (`demo` and `index_links` override their sizes, for tests)."""
    repeats = QUICK_REPEATS if quick else REPEATS
    size = index_links or (QUICK_INDEX_LINKS if quick else INDEX_LINKS)
    started = time.perf_counter()
    with demo_database(demo or DemoWeb()) as db:
        prepared = time.perf_counter()
        on_demo = measure_views(db, repeats)
    on_demo["seconds_to_build"] = round(prepared - started, 1)
    started = time.perf_counter()
    with index_database(size) as db:
        prepared = time.perf_counter()
        on_index = measure_views(db, repeats)
    on_index["seconds_to_build"] = round(prepared - started, 1)
    return {
        "explorer_worst_p95_ms_demo": on_demo["worst_p95_ms"],
        "explorer_worst_p95_ms_index": on_index["worst_p95_ms"],
        "explorer_goal_p95_ms_demo": GOAL_MS,
        "demo": on_demo,
        f"links_{size}": on_index,
    }


if __name__ == "__main__":
    run_measure(measure, __doc__, f"{QUICK_INDEX_LINKS:,} links and {QUICK_REPEATS} requests a view")
