"""Fault: several workers on few sites, whose own per-process limits would let them overload each site."""

from __future__ import annotations

import pytest

from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web
from tests.conftest import local_crawl
from tests.crawlfaults import page_hits

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CONCURRENCY = 2


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_limits_per_site_hold_across_workers(redis_client, redis_url, delay):
    """Injects: two workers, each allowed 4 requests per site by Scrapy, against sites answering after 1 s.

    Proves: without a delay, the server sees at most POLITENESS_CONCURRENCY requests in flight per site, and
    that limit is reached (so it is what held the crawl back); with POLITENESS_DELAY, one at a time and never
    two requests to one site closer than the delay, counting both workers together; every page is fetched.
    """
    web = generate_web(seed=4, sites=8, pages_per_site=10)
    settings = {
        "POLITENESS_CONCURRENCY": CONCURRENCY,
        "POLITENESS_DELAY": delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "CONCURRENT_REQUESTS": 8,
    }
    with local_crawl(redis_url, "linkcrawler_polite") as crawl, WebServer(web, delay=1.0) as server:
        result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=240, settings=settings)
        stats = server.host_stats()
        hits = page_hits(server.hits())

    assert result.worker_exit_codes == [0, 0], result.logs
    assert set(hits) == fetchable_pages(server.web)
    busy = {host: s for host, s in stats.items() if s["requests"] > 1}
    assert len(busy) >= 5
    assert max(s["max_concurrent"] for s in busy.values()) == (1 if delay else CONCURRENCY)
    assert min(s["min_gap"] for s in busy.values()) >= delay
