"""The benchmark suite runs end to end and reports every headline number (never how fast: no timing is checked)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bench import crawl, frontier_cluster, regimes, run
from bench import explorer as explorer_bench
from bench import summarize as summarize_bench
from bench.slowlink import SlowLink
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import generate_web
from linkcrawler.store.mongo import get_database

pytestmark = pytest.mark.slow

# Big enough that two workers overlap: the second can join a few seconds after the first.
TINY = crawl.Plan(sites=30, pages_per_site=30, warmup=10, pages=60, rounds=1)
# Whole crawls of small webs, with limits small enough to keep the test short but still felt.
TINY_REGIMES = {
    "latency_bound": regimes.Regime(sites=10, pages_per_site=4, latency=0.1, concurrency=2, delay=0.0, timeout=120),
    "politeness_bound": regimes.Regime(sites=10, pages_per_site=4, latency=0.0, concurrency=1, delay=0.2, timeout=120),
}


BENCH = Path(run.__file__).parent
SCRIPT_ARGUMENTS = {
    "bloom.py": ["--quick"],
    "cluster_costs.py": ["--urls", "500", "--quick"],
    "crawl.py": ["--quick"],
    "extract.py": ["--quick"],
    "frontier.py": ["--quick"],
    "frontier_cluster.py": ["--quick"],
    "regimes.py": ["--quick"],
}
"""The smallest command line of each script in bench/ that a test runs as users do."""
MEASURED_IN_PROCESS = {
    "run.py": "test_the_suite_reports_every_headline_number_as_a_positive_number",
    "explorer.py": "test_the_explorer_bench_times_every_view_on_both_datasets",
    "summarize.py": "test_the_summarize_bench_copies_no_link_and_reads_far_fewer_links_after_a_small_change",
}
"""Scripts whose smallest command line takes minutes: the test named runs their measurement on a tinier input."""


@pytest.mark.timeout(900)
def test_the_suite_reports_every_headline_number_as_a_positive_number(monkeypatch, capsys):
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.setattr(crawl, "QUICK", TINY)
    monkeypatch.setattr(regimes, "QUICK", TINY_REGIMES)
    monkeypatch.setattr(sys, "argv", ["bench/run.py", "--quick", "--json"])
    run.main()
    result = json.loads(capsys.readouterr().out)

    assert set(run.KEYS) <= set(result)
    for key in run.KEYS:
        assert isinstance(result[key], float | int) and result[key] > 0, (key, result[key])
    assert result["store_stage"].startswith("measured separately")
    crawled = result["details"]["crawl"]
    assert all(crawled[f"{side}_pages_per_second"] > 0 for side in crawl.SIDES)
    far = result["details"]["network"]
    assert result["network_delay_ms_each_way"] == 1000 * crawl.NETWORK_DELAY
    assert far["through_the_link"] == ["redis"]  # no MongoDB given: the workers journal
    assert all(far[f"{side}_pages_per_second"] > 0 for side in crawl.NETWORK_SIDES)
    assert far["ours_redis_round_trips_per_page"] > 0 and "bare_redis_round_trips_per_page" not in far
    assert far["network_worker_vs_bare_scrapy_cpu"] > 0  # the network's, kept apart from the crawl's headline
    assert {"redis_ping_ms_direct", "redis_ping_ms_link", "redis_link_adds_ms"} <= set(far)
    assert far["link_delay_ms_set"] >= 0
    for name in TINY_REGIMES:
        measured = result["details"]["regimes"][name]
        assert measured["bound"]["bound"] > 0
        for side in regimes.SIDES:  # every side crawled the whole web, as the server saw it
            assert measured[side]["requests"] >= measured["expected_requests"] and measured[side]["span"] > 0


def test_every_script_in_bench_is_run_by_a_test():
    scripts = {path.name for path in BENCH.glob("*.py") if 'if __name__ == "__main__":' in path.read_text()}
    assert scripts == {*SCRIPT_ARGUMENTS, *MEASURED_IN_PROCESS}
    assert all(callable(globals().get(test)) for test in MEASURED_IN_PROCESS.values())


@pytest.mark.timeout(900)
@pytest.mark.parametrize("script", sorted(SCRIPT_ARGUMENTS))
def test_every_script_runs_and_prints_one_json_object(script, monkeypatch):
    """Scripts are run as users run them, so that none rots unnoticed: imports, options and printing included."""
    monkeypatch.delenv("MONGO_URI", raising=False)
    command = [sys.executable, str(BENCH / script), *SCRIPT_ARGUMENTS[script], "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=840)

    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert isinstance(result, dict) and result
    if script == "crawl.py":
        for key in crawl.RATIOS:
            assert result[key] > 0, (key, result)


def test_the_suite_runs_the_sections_asked_for_and_leaves_the_others_keys_null(monkeypatch):
    monkeypatch.delenv("MONGO_URI", raising=False)
    script = str(Path(run.__file__))
    done = subprocess.run([sys.executable, script, "--quick", "--json", "--sections", "bloom"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip

    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout)
    assert result["bloom_bytes_per_url"] > 0 and list(result["details"]) == ["bloom"]
    assert result["worker_vs_floor_cpu"] is None and result["store_stage"] is None

    refused = subprocess.run([sys.executable, script, "--sections", "crawl,nope"], capture_output=True, text=True)
    assert refused.returncode == 2 and "unknown section nope" in refused.stderr


def test_a_dead_mongodb_fails_in_one_line_before_any_crawl(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200")
    script = Path(run.__file__)
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert done.stderr.startswith("bench/run.py: error: cannot reach MongoDB at mongodb://127.0.0.1:1/")
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_regime_bound_is_the_largest_of_its_lower_bounds():
    web = generate_web(seed=1, sites=10, pages_per_site=8, uneven=True)
    per_host = regimes.expected_requests(web)
    polite = regimes.bound(web, regimes.Regime(10, 8, latency=0.0, concurrency=1, delay=1.0))
    assert polite["bound"] == polite["site"] == max(per_host.values()) - 1
    slow = regimes.bound(web, regimes.Regime(10, 8, latency=0.5, concurrency=2, delay=0.0))
    assert slow["depth"] == (max(regimes.depths(web).values()) + 1) * 0.5
    assert slow["bound"] == max(slow["site"], slow["depth"], slow["concurrency"])


def test_the_frontier_bench_reports_both_sides_and_an_even_cluster():
    """Numbers only where they cannot depend on the machine's speed: each primary's share against the mean."""
    result = frontier_cluster.measure(quick=True)
    for side in ("one_server", "cluster"):
        assert result[f"{side}_pages_per_second"] > 0 and result[f"{side}_round_trips_per_page"] > 0
    assert len(result["details"]["cluster"]["primaries"]) == 3
    for measure in ("keys", "memory", "commands"):
        assert 1.0 <= result[f"cluster_max_{measure}_over_mean"] <= 1.5, result["details"]["cluster"]
    json.dumps(result)


def test_the_summarize_bench_copies_no_link_and_reads_far_fewer_links_after_a_small_change():
    """100 domains of 16 backlinks; 3 pages change: the incremental run reads the links of the few domains they
    link to, the full run every link, and neither writes a link document."""
    web = summarize_bench.Web(sites=50, pages=4, links=8, partners=4, linked=2)
    result = summarize_bench.measure(webs=(web,))
    measured = result["links_1600"]
    full, incremental = measured["full"], measured["incremental"]
    assert full["links_written"] == incremental["links_written"] == 0
    assert full["recomputed"] == full["domains"] > 4 * incremental["recomputed"] > 0
    assert full["links_matched"] >= measured["links"]
    assert 0 < incremental["links_matched"] < full["links_matched"] / 4
    for key in ("summarize_incremental_vs_full_matched", "summarize_incremental_vs_full_seconds"):
        assert result[key] > 0
    json.dumps(result)


def test_a_slow_link_delays_each_way_and_keeps_every_byte_in_order():
    with EmbeddedRedis() as server, SlowLink(("127.0.0.1", server.port), delay=0.05) as link:
        client = connect_redis(link.url())
        value = bytes(range(256)) * 8192
        client.set("k", value)
        started = time.monotonic()
        assert client.get("k") == value
        assert time.monotonic() - started >= 0.1  # one round trip: the delay each way
        client.close()


def test_a_slow_link_counts_one_round_trip_per_exchange_a_pipeline_included():
    with EmbeddedRedis() as server, SlowLink(("127.0.0.1", server.port), delay=0.02) as link:
        client = connect_redis(link.url())
        client.ping()
        before = link.round_trips
        for _ in range(3):
            client.ping()
        with client.pipeline(transaction=False) as pipe:
            for n in range(200):
                pipe.set(f"k{n}", "x" * 1000)  # 200 KB: sent in many chunks before the first answer
            pipe.execute()
        assert link.round_trips - before == 4
        link.delay = 0.0
        assert client.get("k0") == b"x" * 1000
        client.close()


def test_a_mongodb_on_loopback_is_reached_through_the_link_directly_and_others_as_given():
    assert crawl.loopback_mongodb("mongodb://localhost") == ("127.0.0.1", 27017)
    uri = "mongodb://bench:p%40ss@127.0.0.1:27018/db?authSource=admin&directConnection=false"
    assert crawl.loopback_mongodb(uri) == ("127.0.0.1", 27018)
    assert (
        crawl.through_port(uri, 4000)
        == "mongodb://bench:p%40ss@127.0.0.1:4000/db?authSource=admin&directConnection=true"
    )
    assert crawl.through_port("mongodb://localhost", 4000) == "mongodb://127.0.0.1:4000/?directConnection=true"
    for elsewhere in ("mongodb://10.0.0.5:27017/", "mongodb://127.0.0.1:1,127.0.0.1:2/?replicaSet=rs",
                      "mongodb+srv://cluster.example.com/"):  # fmt: skip
        assert crawl.loopback_mongodb(elsewhere) is None


def test_a_tiled_index_loads_as_the_store_writes_it_whole():
    """The larger indexes copy their first tile's documents: the copies equal what the store writes itself."""
    web = summarize_bench.Web(sites=6, pages=4, links=8, partners=4, linked=2, tiles=3)
    items, _ = web.first_crawl(seed=1)
    copied, stored = (get_database(f"mongomock://tiles-{uuid.uuid4().hex}", "linkcrawler") for _ in range(2))
    summarize_bench.load(copied, web, items)
    summarize_bench.store(stored, items)
    for collection in ("links", "pages"):
        documents = [
            {
                d["_id"]: {k: v for k, v in d.items() if k not in ("changed_at", "created_at")}
                for d in db[collection].find()
            }
            for db in (copied, stored)
        ]
        assert len(documents[0]) == web.size if collection == "links" else 72
        assert documents[0] == documents[1], collection
    assert len({d["source_subnet"] for d in copied["links"].find()}) == 18  # each site a /24 of its own


def test_the_explorer_bench_times_every_view_on_both_datasets():
    """A tiny demo web crawled twice and a generated index of 1,000 links: every view answers and is timed."""
    result = explorer_bench.measure(quick=True, demo=explorer_bench.DemoWeb(sites=4, pages=4), index_links=1000)
    for dataset in ("demo", "links_1000"):
        measured = result[dataset]
        assert measured["links"] > 0 and measured["repeats"] == explorer_bench.QUICK_REPEATS
        assert set(measured["views"]) == set(explorer_bench.VIEWS)
        for times in measured["views"].values():
            assert 0 < times["p50_ms"] <= times["p95_ms"]
        assert measured["worst_p95_ms"] == max(times["p95_ms"] for times in measured["views"].values())
    assert result["explorer_worst_p95_ms_demo"] == result["demo"]["worst_p95_ms"]
    assert "after=" in result["links_1000"]["paths"]["backlinks_later_page"]  # about 100 backlinks: two pages
    json.dumps(result)
