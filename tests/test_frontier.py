"""The shared frontier on a real Redis: JSON requests, shared seen-set, a page budget across workers."""

from __future__ import annotations

import json

from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from linkcrawler.frontier import Scheduler


class Probe(Spider):
    name = "probe"


def open_scheduler(redis_url: str, **settings) -> Scheduler:
    settings = {"REDIS_URL": redis_url, "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter", **settings}
    crawler = get_crawler(Probe, settings)
    crawler.spider = crawler._create_spider()
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def test_requests_are_stored_as_json_and_come_back_whole(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    scheduler.enqueue_request(Request("http://a.com/x", meta={"depth": 2}, priority=5))
    [raw] = redis_client.zrange("probe:requests", 0, -1)
    assert json.loads(raw)["url"] == "http://a.com/x"
    request = scheduler.next_request()
    assert (request.url, request.meta["depth"], request.priority) == ("http://a.com/x", 2, 5)
    assert scheduler.next_request() is None


def test_two_workers_share_one_seen_set(redis_client, redis_url):
    first, second = open_scheduler(redis_url), open_scheduler(redis_url)
    assert first.enqueue_request(Request("http://a.com/page"))
    assert not second.enqueue_request(Request("http://a.com/page"))
    assert not second.enqueue_request(Request("http://a.com/page#fragment"))
    assert len(first) == 1


def test_page_budget_per_domain_holds_across_workers(redis_client, redis_url):
    workers = [open_scheduler(redis_url, PAGES_PER_DOMAIN=3) for _ in range(2)]
    accepted = sum(
        workers[n % 2].enqueue_request(Request(f"http://{host}/p{n}"))
        for n, host in enumerate(["a.com", "www.a.com", "blog.a.com", "a.com", "a.com", "b.co.uk"])
    )
    assert accepted == 4  # three pages of a.com (any host), one of b.co.uk
    assert sum(w.stats.get_value("frontier/over_domain_budget", 0) for w in workers) == 2


def test_closing_one_worker_keeps_the_frontier_for_the_others(redis_client, redis_url):
    first, second = open_scheduler(redis_url), open_scheduler(redis_url)
    first.enqueue_request(Request("http://a.com/1"))
    first.close("finished")
    assert len(second) == 1
    assert not second.enqueue_request(Request("http://a.com/1"))
