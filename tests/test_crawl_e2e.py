"""End to end: real worker processes, one Redis, a synthetic web on loopback, MongoDB (real or emulated).

The expected links come from the synthetic web's model (`ground_truth`), not
from our extractor, so a mistake in extraction, normalization, the frontier
or the store shows up as a difference here.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC

import pytest

from linkcrawler.errors import UserError
from linkcrawler.extract.urls import split_host
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth
from tests.conftest import local_crawl
from tests.crawlfaults import leased

pytestmark = pytest.mark.slow

COMPARED = ("nofollow", "ugc", "sponsored", "follow", "position", "source_ip", "source_domain", "target_domain")


def identity(link: dict) -> tuple:
    return (link["source_url"], link["target_url"], link["link_type"], link["anchor"])


@pytest.fixture(scope="module")
def web():
    return generate_web(seed=3, sites=30, pages_per_site=20)


@pytest.fixture
def crawl(redis_client, redis_url):
    with local_crawl(redis_url, "linkcrawler_e2e") as local:
        yield local


@pytest.fixture
def crawl_anywhere(any_redis_url):
    """On one Redis server, and on a Redis Cluster (three primaries, one replica each)."""
    with local_crawl(any_redis_url, "linkcrawler_e2e") as local:
        yield local


def test_two_workers_fetch_every_page_once_and_store_exactly_the_ground_truth(web, crawl_anywhere):
    crawl = crawl_anywhere
    with WebServer(web) as server:
        expected_pages = fetchable_pages(server.web)
        assert len(expected_pages) >= 500
        result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=300)
        hits = server.hits()

    assert result.worker_exit_codes == [0, 0], result.logs
    page_hits = {url: n for url, n in hits.items() if not url.endswith("/robots.txt")}
    assert set(page_hits) == expected_pages
    assert {n for n in page_hits.values()} == {1}, [u for u, n in page_hits.items() if n != 1][:10]

    stored = {identity(doc): doc for doc in crawl.store.links.find()}
    truth = {identity(link): link for link in ground_truth(server.web)}
    assert sorted(set(stored) - set(truth))[:10] == []
    assert sorted(set(truth) - set(stored))[:10] == []
    differing = [key for key, link in truth.items() if any(stored[key][f] != link[f] for f in COMPARED)]
    assert differing[:10] == []
    assert {doc["seen_count"] for doc in stored.values()} == {1}


@pytest.mark.faults
def test_a_new_crawl_run_moves_last_seen_and_changes_no_link_count(web, crawl):
    """Injects: a second crawl run over the same web, with leases and shared politeness on.

    Proves: known pages are fetched again, no stored link is cleared or duplicated, and no lease or
    politeness slot of the first run gets in the second's way.
    """
    with WebServer(web) as server:
        crawl.crawl(server.seeds, server.hosts, workers=2, timeout=300)
        first = {doc["_id"]: doc for doc in crawl.store.links.find()}
        pages_first = crawl.store.pages.count_documents({})
        crawl.crawl(server.seeds, server.hosts, workers=2, timeout=300, new_run=True)
        second = {doc["_id"]: doc for doc in crawl.store.links.find()}
        assert leased(crawl) == 0

    assert set(second) == set(first) and len(first) > 0
    assert crawl.store.pages.count_documents({}) == pages_first
    for key, doc in second.items():
        assert doc["seen_count"] == 2
        assert as_utc(doc["last_seen"]) > as_utc(first[key]["last_seen"])
        assert as_utc(doc["first_seen"]) == as_utc(first[key]["first_seen"])


def as_utc(value):
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_limits_hold_across_workers(web, crawl):
    """Depth, a per-domain page budget and a denied domain, with two workers sharing them."""
    denied = web.sites[0].domain
    with WebServer(web) as server:
        seeds = [url for url in server.seeds if split_host(url)[1] != denied]
        settings = {"PAGES_PER_DOMAIN": 5, "DEPTH_LIMIT": 2, "DENIED_DOMAINS": denied}
        result = crawl.crawl(seeds, server.hosts, workers=2, timeout=300, settings=settings)
        hits = [url for url in server.hits() if not url.endswith("/robots.txt")]

    assert result.worker_exit_codes == [0, 0], result.logs
    per_domain = Counter(split_host(url)[1] for url in hits)
    assert denied not in per_domain
    assert max(per_domain.values()) == 5
    crawlable = {site.domain for site in web.sites if "/" not in site.disallow}  # robots.txt: Disallow: /
    assert set(per_domain) == crawlable - {denied}
    assert max(doc["depth"] for doc in crawl.store.pages.find()) <= 2


def test_a_worker_that_cannot_start_is_reported(web, crawl):
    """A worker given a bad setting stops at start in one line: the crawl says so instead of reporting nothing."""
    message = r"(?s)a worker exited with status 2.*\n.*CRAWL_NETWORKS: 'not-a-net' is not an IP network"
    with WebServer(web) as server, pytest.raises(UserError, match=message):
        crawl.crawl(server.seeds[:1], server.hosts, workers=1, timeout=120, settings={"CRAWL_NETWORKS": "not-a-net"})
