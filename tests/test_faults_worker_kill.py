"""Fault: worker processes killed with SIGKILL mid-crawl, on a synthetic web of over 2,000 pages."""

from __future__ import annotations

import pytest

from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth, identity
from tests.conftest import local_crawl
from tests.crawlfaults import finish, leased, leases_of, page_hits, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CONCURRENCY = 16
KILLS = 3


@pytest.fixture
def crawl(any_redis_url):
    """On one Redis server, and on a Redis Cluster (three primaries, one replica each)."""
    with local_crawl(any_redis_url, "linkcrawler_kill") as local:
        yield local


def test_a_worker_killed_three_times_loses_no_page(crawl, capsys):
    """Injects: one of two workers killed with SIGKILL three times, each while it holds leased requests
    (downloads in flight on a server answering after 50 ms, pages not yet stored), and restarted.

    Proves: the dead worker's leases return to the frontier, so every fetchable page is fetched and
    every link of the ground truth is stored; pages fetched twice are at most the requests the
    killed workers held at their death (measured from Redis right after each kill).
    """
    web = generate_web(seed=6, sites=80, pages_per_site=30)
    settings = {
        "CONCURRENT_REQUESTS": CONCURRENCY,
        "LEASE_SECONDS": 2,
        "WORKER_HEARTBEAT_SECONDS": 0.5,
        "STORE_FLUSH_SECONDS": 0.5,
    }
    with WebServer(web, delay=0.05) as server:
        expected = fetchable_pages(server.web)
        assert len(expected) >= 2000
        crawl.seed(server.seeds)
        victim, survivor = crawl.start_workers(2, server.hosts, settings)
        workers = [victim, survivor]
        held_at_death = []
        for kill in range(1, KILLS + 1):
            wait_for(lambda k=kill: len(server.hits()) >= len(expected) * k / (KILLS + 2), 120, "crawl progress")
            wait_for(lambda v=victim: leases_of(crawl, v) >= CONCURRENCY // 2, 60, "the victim to hold leases")
            victim.process.kill()
            victim.process.wait()
            held_at_death.append(leases_of(crawl, victim))
            [victim] = crawl.start_workers(1, server.hosts, settings)
            workers.append(victim)
        codes = finish(crawl, workers, timeout=180)
        hits = page_hits(server.hits())

    killed = [workers[0], *workers[2:-1]]
    assert [codes[workers.index(w)] for w in killed] == [-9] * KILLS
    assert (codes[1], codes[-1]) == (0, 0), [w.log_tail() for w in workers]
    assert set(hits) == expected
    stored = {identity(doc) for doc in crawl.store.links.find()}
    truth = {identity(link) for link in ground_truth(server.web)}
    assert sorted(truth - stored)[:10] == []
    assert leased(crawl) == 0
    fetched_twice = sum(n - 1 for n in hits.values())
    with capsys.disabled():
        print(f"\n[kill test] {len(expected)} pages, {KILLS} kills, leases held at death {held_at_death}, "
              f"pages fetched twice {fetched_twice}")  # fmt: skip
    assert all(held > 0 for held in held_at_death)
    assert fetched_twice <= sum(held_at_death)
