"""Fault: the Redis server killed with SIGKILL mid-crawl and restarted from its append-only file; a Redis Cluster
primary killed and failed over to its replica."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth, identity
from linkcrawler.local.workers import WorkerProcess
from tests.conftest import local_crawl
from tests.crawlfaults import finish, leased, log_report, page_hits, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]


@pytest.fixture
def redis_server(tmp_path):
    server = EmbeddedRedis(data_dir=tmp_path / "redis", persist=True).start()
    yield server
    server.stop()


def test_workers_ride_out_a_redis_restart(redis_server):
    """Injects: the Redis holding the frontier, seen-set and leases is SIGKILLed while two workers crawl,
    and comes back 2 s later on the same port with its data (AOF, fsync on every write).

    Proves: the workers' clients reconnect with backoff instead of failing, the crawl finishes by
    itself, and nothing is lost: every fetchable page fetched, every link of the ground truth stored,
    no lease left behind.
    """

    def restart() -> None:
        redis_server.kill()
        time.sleep(2)
        redis_server.start()

    crawl_through(redis_server.url, restart)


@pytest.mark.parametrize("recovery", ["failover", "restart"])
def test_workers_ride_out_a_cluster_primary_killed(redis_cluster, monkeypatch, recovery):
    """Injects: on a Redis Cluster (three primaries, one replica each, AOF with fsync on every write), the
    primary serving slot 0 is SIGKILLed while two workers crawl; either its replica is elected in its place
    (failover), or it is started again on its port from its AOF within the node timeout, before any
    election (restart).

    Proves: the workers' cluster clients find the slot's primary again (a refreshed slot map, MOVED) and
    the crawl finishes by itself with nothing lost, as after a restart of a single Redis.
    """
    monkeypatch.setenv("REDIS_CLUSTER", "true")

    def kill_a_primary() -> None:
        killed = redis_cluster.primary_ports()[0]
        node = redis_cluster.node_on(killed)
        node.kill()
        if recovery == "failover":
            redis_cluster.wait_failover(killed)
        else:
            node.start()
            redis_cluster.wait_ok()

    crawl_through(redis_cluster.url, kill_a_primary)


def crawl_through(redis_url: str, fault: Callable[[], None]) -> None:
    """Two workers crawl a synthetic web; `fault` strikes Redis a third of the way; nothing may be lost."""
    web = generate_web(seed=8, sites=30, pages_per_site=20)
    with local_crawl(redis_url, "linkcrawler_redis") as crawl, WebServer(web, delay=0.02) as server:
        expected = fetchable_pages(server.web)
        crawl.seed(server.seeds)
        workers = crawl.start_workers(2, server.hosts, {"LEASE_SECONDS": 5})
        wait_for(lambda: len(server.hits()) >= len(expected) // 3, 120, "a third of the crawl")
        fault()
        codes = finish(crawl, workers, timeout=180)
        hits = page_hits(server.hits())
        stored = {identity(doc) for doc in crawl.store.links.find()}
        still_leased = leased(crawl)

    assert codes == [0, 0], [w.log_tail(40) for w in workers]
    assert set(hits) == expected
    assert sorted({identity(link) for link in ground_truth(server.web)} - stored)[:10] == []
    assert still_leased == 0


def test_acks_that_meet_redis_down_are_sent_once_it_is_back(redis_server):
    """Injects: Redis SIGKILLed for 3 s while two workers store pages and acknowledge their leases, the workers'
    clients retrying once (`REDIS_RETRIES=1`), so acknowledgements fail past their retries (issue 23 #4).

    Proves: a failed acknowledgement waits in its worker and goes with the next round trip once Redis is
    back: no lease is left held, the workers close by themselves (`IDLE_CLOSE_SECONDS`), every page fetched.
    Before, the ack was dropped; its lease stayed held, renewed by a live worker, and nobody ever closed.
    """
    web = generate_web(seed=8, sites=20, pages_per_site=15)
    settings = {"LEASE_SECONDS": 5, "REDIS_RETRIES": 1, "STORE_FLUSH_SECONDS": 0.3}
    with local_crawl(redis_server.url, "linkcrawler_acks") as crawl, WebServer(web, delay=0.02) as server:
        expected = fetchable_pages(server.web)
        crawl.seed(server.seeds)
        workers = crawl.start_workers(2, server.hosts, settings)
        wait_for(lambda: len(server.hits()) >= len(expected) // 3, 120, "a third of the crawl")
        redis_server.kill()
        time.sleep(3)
        redis_server.start()
        closed = wait_closed(workers, timeout=60)
        still_leased = leased(crawl)
        codes = finish(crawl, workers, timeout=10)
        hits = page_hits(server.hits())
        logs = [w.log_path.read_text(errors="replace") for w in workers]

    assert closed and codes == [0, 0], [log_report(log) for log in logs]
    assert still_leased == 0
    assert any("acknowledgement(s) wait in this worker" in log for log in logs)  # the outage did meet acks
    assert set(hits) == expected


def wait_closed(workers: list[WorkerProcess], timeout: float) -> bool:
    """Whether every worker exited by itself within `timeout` seconds (a bound on a hang, not a speed test)."""
    try:
        wait_for(lambda: not any(w.running() for w in workers), timeout, "the workers to close by themselves", 0.2)
    except AssertionError:
        return False
    return True


def test_an_idle_worker_that_cannot_see_redis_waits_instead_of_closing(redis_server):
    """Injects: Redis SIGKILLed for 7 s (longer than Scrapy's 5 s between idle checks) while a worker, its crawl
    done, waits out `IDLE_CLOSE_SECONDS`, its client
    retrying once (`REDIS_RETRIES=1`), so its idle checks and heartbeats fail past their retries.

    Proves: a worker that cannot see the frontier does not take the crawl for done: it keeps waiting (one
    warning a check), then closes by itself once Redis is back, with exit status 0. Before, the failed idle
    check let Scrapy close the spider during the outage, and the close failed on Redis too (exit status 1).
    """
    web = generate_web(seed=3, sites=3, pages_per_site=4)
    settings = {"REDIS_RETRIES": 1, "IDLE_CLOSE_SECONDS": 4, "STORE_FLUSH_SECONDS": 0.3}
    with local_crawl(redis_server.url, "linkcrawler_idle") as crawl, WebServer(web) as server:
        crawl.seed(server.seeds)
        [worker] = crawl.start_workers(1, server.hosts, settings)
        expected = fetchable_pages(server.web)
        wait_for(lambda: set(page_hits(server.hits())) == expected, 120, "the whole crawl")
        redis_server.kill()
        time.sleep(7)
        running_through_the_outage = worker.running()
        redis_server.start()
        closed = wait_closed([worker], timeout=60)
        [code] = finish(crawl, [worker], timeout=10)
        log = worker.log_path.read_text(errors="replace")

    assert running_through_the_outage and closed and code == 0, log_report(log)
