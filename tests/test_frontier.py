"""The shared frontier on a real Redis: JSON requests, shared seen-set, a page budget across workers."""

from __future__ import annotations

import json
import logging
from collections import Counter
from unittest.mock import Mock

import pytest
import redis
from redis.connection import AbstractConnection
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.utils.test import get_crawler

from bench.frontier_cluster import RoundTrips
from linkcrawler.frontier import roundtrips
from linkcrawler.frontier import scheduler as frontier
from linkcrawler.frontier.leases import LEASE_META
from linkcrawler.frontier.scheduler import Scheduler
from linkcrawler.frontier.seeds import start_new_run
from tests.conftest import command_calls, lease_ids, queued_count, queued_requests

SEEN_SETS = ("scrapy_redis.dupefilter.RFPDupeFilter", "linkcrawler.frontier.bloom.BloomDupeFilter")


class Probe(Spider):
    name = "probe"

    def failed(self, failure):
        """An errback, to carry through the frontier by name."""


def open_scheduler(redis_url: str, **settings) -> Scheduler:
    settings = {"REDIS_URL": redis_url, "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter", **settings}
    crawler = get_crawler(Probe, settings)
    crawler.spider = crawler._create_spider()
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def queued(scheduler: Scheduler, *requests: Request) -> int:
    """How many of `requests` the frontier queued: they are checked against the seen-set as one batch."""
    before = scheduler.stats.get_value("scheduler/enqueued/redis", 0)
    for request in requests:
        assert scheduler.enqueue_request(request)
    scheduler.flush()
    return scheduler.stats.get_value("scheduler/enqueued/redis", 0) - before


def test_requests_are_stored_as_json_and_come_back_whole(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    assert queued(scheduler, Request("http://a.com/x", meta={"depth": 2}, priority=5)) == 1
    [raw] = queued_requests(redis_client)
    assert json.loads(raw)["url"] == "http://a.com/x"
    request = scheduler.next_request()
    assert (request.url, request.meta["depth"], request.priority) == ("http://a.com/x", 2, 5)
    assert scheduler.next_request() is None


def test_callbacks_go_through_the_frontier_by_name(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    spider = scheduler.spider
    queued(scheduler, Request("http://a.com/x", callback=spider.parse, errback=spider.failed))
    [raw] = queued_requests(redis_client)
    assert (json.loads(raw)["callback"], json.loads(raw)["errback"]) == ("parse", "failed")
    request = scheduler.next_request()
    assert request.callback == spider.parse and request.errback == spider.failed


def test_two_workers_share_one_seen_set(redis_client, redis_url):
    first, second = open_scheduler(redis_url), open_scheduler(redis_url)
    assert queued(first, Request("http://a.com/page")) == 1
    assert queued(second, Request("http://a.com/page"), Request("http://a.com/page#fragment")) == 0
    assert len(first) == 1
    assert second.stats.get_value("dupefilter/filtered") == 2


def test_page_budget_per_domain_holds_across_workers(redis_client, redis_url):
    workers = [open_scheduler(redis_url, PAGES_PER_DOMAIN=3) for _ in range(2)]
    accepted = sum(
        queued(workers[n % 2], Request(f"http://{host}/p{n}"))
        for n, host in enumerate(["a.com", "www.a.com", "blog.a.com", "a.com", "a.com", "b.co.uk"])
    )
    assert accepted == 4  # three pages of a.com (any host), one of b.co.uk
    assert sum(w.stats.get_value("frontier/over_domain_budget", 0) for w in workers) == 2


def test_a_retry_at_the_page_budget_is_queued_and_a_refusal_is_logged(redis_client, redis_url, caplog):
    """Issue 23 #2: Scrapy's retry of a page (a `dont_filter` copy after a 503) was counted against its domain's
    budget a second time and refused once the domain had reached it; its lease acked, the page was lost."""
    scheduler = open_scheduler(redis_url, PAGES_PER_DOMAIN=2)
    assert queued(scheduler, Request("http://a.com/1"), Request("http://a.com/2")) == 2
    popped = scheduler.next_request()
    retry = get_retry_request(popped, spider=scheduler.spider, reason="503 Service Unavailable")
    assert queued(scheduler, retry) == 1
    assert len(lease_ids(redis_client)) == 1  # the retried page's lease released, the prefetched one held
    assert sorted(scheduler.next_request().url for _ in range(2)) == ["http://a.com/1", "http://a.com/2"]
    with caplog.at_level(logging.INFO, logger=frontier.__name__):
        assert queued(scheduler, Request("http://a.com/3"), Request("http://www.a.com/4")) == 0
    assert scheduler.stats.get_value("frontier/over_domain_budget") == 2
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert line.startswith("a.com reached PAGES_PER_DOMAIN (2 pages scheduled this run)") and "/3" in line


def test_closing_one_worker_keeps_the_frontier_for_the_others(redis_client, redis_url):
    first, second = open_scheduler(redis_url), open_scheduler(redis_url)
    first.enqueue_request(Request("http://a.com/1"))
    first.close("finished")
    assert len(second) == 1
    assert queued(second, Request("http://a.com/1")) == 0


@pytest.mark.parametrize("dupefilter", SEEN_SETS)
def test_a_pages_links_cost_two_round_trips_to_the_seen_set(redis_client, redis_url, dupefilter):
    """Fifty links another worker mostly queued already: one question for all fifty, one script queueing the five
    new ones."""
    first = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
    assert queued(first, *(Request(f"http://a.com/old/{n}") for n in range(45))) == 45
    scheduler = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
    redis_client.config_resetstat()
    links = [Request(f"http://a.com/old/{n}") for n in range(45)] + [Request(f"http://a.com/new/{n}") for n in range(5)]
    assert queued(scheduler, *links) == 5
    assert command_calls(redis_client, "smismember", "sismember", "evalsha", "eval") == 2
    assert scheduler.stats.get_value("dupefilter/filtered") == 45


@pytest.mark.parametrize("dupefilter", SEEN_SETS)
def test_a_few_unknown_links_go_straight_to_the_queueing_script(redis_client, redis_url, dupefilter):
    """Below `SEEN_QUESTION_MIN` unknown links, asking first costs more than encoding them: the script checks."""
    first = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
    assert queued(first, Request("http://a.com/seen")) == 1
    scheduler = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
    assert queued(scheduler, Request("http://b.com/")) == 1  # a Bloom filter reads its shape once
    with RoundTrips() as trips:
        assert queued(scheduler, Request("http://a.com/seen"), Request("http://a.com/new")) == 1
    assert trips.count == 1
    assert scheduler.stats.get_value("dupefilter/filtered") == 1


@pytest.mark.parametrize("dupefilter", SEEN_SETS)
def test_on_sixteen_partitions_links_to_many_sites_cost_two_round_trips_and_a_pop_one(redis_client, redis_url,
                                                                                     dupefilter):  # fmt: skip
    """As a cluster lays the frontier out, on one server: one pipeline asks every partition touched, one queues."""
    scheduler = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter, FRONTIER_PARTITIONS=16, FRONTIER_PREFETCH=4)
    sites = [f"www.site{n}.com" for n in range(40)]
    assert queued(scheduler, *(Request(f"http://{site}/") for site in sites)) == 40
    assert len({scheduler.partitions.of_site(site) for site in sites}) >= 12
    with RoundTrips() as trips:
        assert queued(scheduler, *(Request(f"http://{site}/{page}") for site in sites for page in ("", "a"))) == 40
    assert trips.count == 2
    with RoundTrips() as trips:
        popped = [scheduler.next_request() for _ in range(4)]
    assert trips.count == 1
    assert len({scheduler.partitions.of_site(request.url.split("/")[2]) for request in popped}) == 4


@pytest.mark.parametrize("dupefilter", SEEN_SETS)
def test_links_a_worker_knows_are_seen_cost_no_round_trip(redis_client, redis_url, dupefilter):
    """A site's pages share most of their links: after the first page, they are dropped without asking Redis."""
    scheduler = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
    nav = [Request(f"http://a.com/nav/{n}") for n in range(20)]
    assert queued(scheduler, *nav) == 20
    with RoundTrips() as trips:
        assert queued(scheduler, *nav) == 0
    assert trips.count == 0
    other = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
    assert queued(other, *nav, Request("http://a.com/new")) == 1  # another worker asks the shared seen-set
    assert other.stats.get_value("dupefilter/filtered") == 20


def test_a_worker_learns_of_a_new_run_from_its_next_pop_and_queues_known_urls_again(redis_client, redis_url):
    """Its pages leased from then on are the new run's: their links go to the new seen-set."""
    worker = open_scheduler(redis_url)
    assert queued(worker, Request("http://a.com/known")) == 1
    page = worker.next_request()
    start_new_run(redis_client, spider="probe")
    assert queued(open_scheduler(redis_url), Request("http://b.com/seed")) == 1
    worker.request_left(page)  # its download is over: the worker may pop again
    assert worker.next_request().url == "http://b.com/seed"
    assert queued(worker, Request("http://a.com/known")) == 1


def test_a_worker_that_reconnects_asks_redis_again(redis_client, redis_url):
    """A server restarted or failed over may have lost its last writes: what the worker learnt is forgotten."""
    worker = open_scheduler(redis_url)
    assert queued(worker, Request("http://a.com/x")) == 1
    redis_client.delete(*redis_client.keys("probe:*dupefilter*"))  # the writes a failover lost
    assert queued(worker, Request("http://a.com/x")) == 0
    worker.server.connection_pool.disconnect()
    assert worker.next_request().url == "http://a.com/x"  # a round trip: the client connects again
    assert queued(worker, Request("http://a.com/x")) == 1
    assert worker.stats.get_value("frontier/seen_cache_resets") == 1


def test_links_waiting_in_the_batch_reach_redis_before_their_page_is_acknowledged(redis_client, redis_url):
    """A worker killed after the ack must not take the links found on that page with it."""
    scheduler = open_scheduler(redis_url)
    scheduler.enqueue_request(Request("http://a.com/page"))
    page = scheduler.next_request()
    scheduler.enqueue_request(Request("http://a.com/linked"))
    assert queued_count(redis_client) == 0
    scheduler.ack([page.meta[LEASE_META]])
    assert queued_count(redis_client) == 1


def test_remembered_fingerprints_stay_correct_past_the_cache_size(redis_client, redis_url, monkeypatch):
    monkeypatch.setattr(frontier, "FINGERPRINT_CACHE_SIZE", 2)
    scheduler = open_scheduler(redis_url)
    urls = [f"http://a.com/{n}" for n in range(5)]
    assert queued(scheduler, *map(Request, urls)) == 5
    assert queued(scheduler, *map(Request, urls), Request("http://a.com/new")) == 1
    assert queued(scheduler, Request("http://a.com/0", dont_filter=True)) == 1


def test_links_stay_waiting_when_redis_fails_and_their_page_is_not_acknowledged(redis_client, redis_url, monkeypatch):
    scheduler = open_scheduler(redis_url)
    assert queued(scheduler, Request("http://a.com/page")) == 1
    page = scheduler.next_request()
    scheduler.enqueue_request(Request("http://a.com/linked"))
    with monkeypatch.context() as outage:
        outage.setattr(roundtrips, "run_scripts", Mock(side_effect=redis.ConnectionError("gone")))
        scheduler.ack([page.meta[LEASE_META]])  # the ack waits behind the links, for the next round trip
    assert len(lease_ids(redis_client)) == 1  # the page is still leased: refetched if this worker dies
    scheduler.flush()
    assert queued_count(redis_client) == 1 and len(lease_ids(redis_client)) == 0


class Killed(BaseException):
    """The worker process dying: nothing after it runs, and redis-py does not retry it."""


@pytest.mark.parametrize("dupefilter", SEEN_SETS)
def test_a_worker_killed_anywhere_in_a_flush_loses_no_link(redis_client, redis_url, monkeypatch, dupefilter):
    """Injects: a worker that dies before its n-th Redis command of a flush, for each n until a flush completes;
    then another worker finding the same links again (the page's lease expired and it was fetched again).

    Proves: whatever the worker had sent before dying, every link ends up queued, once. A seen-set asked in one
    command and the queue written in another would leave the links seen and never queued.
    """
    links = [f"http://a.com/{n}" for n in range(4)]
    sent = 0

    def send(connection, command, *args, **kwargs):
        nonlocal sent
        if sent == allowed:
            raise Killed
        sent += 1
        return real_send(connection, command, *args, **kwargs)

    real_send = AbstractConnection.send_packed_command
    for allowed in range(30):
        redis_client.flushdb()
        dying = open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter)
        assert queued(dying, Request("http://a.com/0")) == 1
        for url in links:
            dying.enqueue_request(Request(url))
        sent = 0
        with monkeypatch.context() as patch:
            patch.setattr(AbstractConnection, "send_packed_command", send)
            try:
                dying.flush()
                completed = True
            except Killed:
                completed = False
        queued(open_scheduler(redis_url, DUPEFILTER_CLASS=dupefilter), *map(Request, links))
        urls = Counter(json.loads(raw)["url"] for raw in queued_requests(redis_client))
        assert urls == Counter(links), (allowed, urls)
        if completed:
            break
    assert completed
