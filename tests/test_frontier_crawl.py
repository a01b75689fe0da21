"""The per-site frontier in real crawls: what a worker holds, and how sites are interleaved under a delay."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from linkcrawler.frontier.connection import connect_redis
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web
from tests.conftest import local_crawl
from tests.crawlfaults import page_hits
from tests.test_politeness import kept_for_good

pytestmark = pytest.mark.slow


class InFlight:
    """Samples the frontier's slots every few milliseconds: requests popped and not yet out of the downloader."""

    def __init__(self) -> None:
        self.most_per_worker = 0
        self.most_sites = 0
        self.samples = 0

    def sample(self, client) -> None:
        per_worker: Counter[str] = Counter()
        sites = 0
        for key in client.scan_iter("backlinks:*:slots:*"):
            leases = client.zrange(key, 0, -1)
            sites += bool(leases)
            per_worker.update(lease.decode().rpartition("#")[0] for lease in leases)
        self.most_per_worker = max(self.most_per_worker, max(per_worker.values(), default=0))
        self.most_sites = max(self.most_sites, sites)
        self.samples += 1


@contextmanager
def sampling(redis_url: str) -> Iterator[InFlight]:
    seen, done = InFlight(), threading.Event()
    client = connect_redis(redis_url)

    def run() -> None:
        while not done.wait(0.01):
            seen.sample(client)

    sampler = threading.Thread(target=run, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        done.set()
        sampler.join(timeout=5)
        client.close()


def test_a_worker_never_holds_more_than_its_concurrent_requests_plus_prefetch(redis_client, redis_url):
    """Injects: slow sites (200 ms a response) and room for many requests per site. Proves: no worker ever has
    more popped requests on their way than CONCURRENT_REQUESTS + FRONTIER_PREFETCH, and it does fill that room."""
    web = generate_web(seed=11, sites=10, pages_per_site=12)
    settings = {"CONCURRENT_REQUESTS": 4, "FRONTIER_PREFETCH": 2, "POLITENESS_CONCURRENCY": 3}
    with local_crawl(redis_url, "linkcrawler_hold") as crawl, WebServer(web, delay=0.2) as server:
        with sampling(redis_url) as seen:
            result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=240, settings=settings)
        hits = page_hits(server.hits())
    assert result.worker_exit_codes == [0, 0], result.logs
    assert set(hits) == fetchable_pages(server.web)
    assert seen.samples > 50
    assert 3 <= seen.most_per_worker <= 4 + 2


def test_sites_are_interleaved_and_each_keeps_its_delay_across_two_workers(redis_client, redis_url):
    """Injects: a 0.5 s delay per site and one request at a time per site, two workers. Proves: the server
    never sees two requests to one site closer than the delay, while the workers keep
    most sites busy at once instead of queueing behind a few; and each site's robots.txt is fetched once, by
    one worker, for both."""
    delay = 0.5
    web = generate_web(seed=12, sites=12, pages_per_site=6)
    settings = {"POLITENESS_DELAY": delay, "POLITENESS_CONCURRENCY": 1, "CONCURRENT_REQUESTS": 8}
    with local_crawl(redis_url, "linkcrawler_interleave") as crawl, WebServer(web, delay=0.05) as server:
        with sampling(redis_url) as seen:
            result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=240, settings=settings)
        stats = server.host_stats()
        hits = page_hits(server.hits())
        robots = Counter(host for host, path, _ in server.requests() if path == "/robots.txt")
    assert result.worker_exit_codes == [0, 0], result.logs
    assert set(hits) == fetchable_pages(server.web)
    assert len(robots) >= 10 and set(robots.values()) == {1}, robots
    busy = {host: s for host, s in stats.items() if s["requests"] > 1}
    assert len(busy) >= 10
    assert min(s["min_gap"] for s in busy.values()) >= delay
    assert max(s["max_concurrent"] for s in busy.values()) == 1
    assert seen.most_sites >= 8


def test_no_site_sees_two_requests_closer_than_its_delay_however_late_one_arrives(redis_client, redis_url):
    """Injects: 30 sites and a 1 s delay, two workers, and a server that now and then stalls for 0.3 s (a busy
    server, a congested link): requests reaching it meanwhile are read late, others on time. Proves, at the
    server, over three crawls: no site ever sees two requests closer than the delay (the next request starts the
    delay after the previous one's response), every page is fetched, and nothing is kept about the sites once
    their delay has passed."""
    delay = 1.0
    web = generate_web(seed=18, sites=30, pages_per_site=4)
    settings = {"POLITENESS_DELAY": delay, "CONCURRENT_REQUESTS": 16}
    with local_crawl(redis_url, "linkcrawler_gap") as crawl, WebServer(web) as server:
        for url in sorted(fetchable_pages(server.web) - set(server.seeds))[::12]:
            server.set_behaviour(url, "stall", seconds=0.3)
        closest = []
        for _ in range(3):
            server.reset_stats()
            result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=120, settings=settings)
            stats = server.host_stats()
            assert result.worker_exit_codes == [0, 0], result.logs
            assert set(page_hits(server.hits())) == fetchable_pages(server.web)
            closest.append(min(s["min_gap"] for s in stats.values() if s["min_gap"] is not None))
        kept = kept_for_good(redis_client, list(server.hosts))
    assert min(closest) >= delay, closest
    assert kept == []
