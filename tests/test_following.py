"""A page's links reach the frontier in one signal and come back as the requests the spider makes for them."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from bench import cluster_costs
from linkcrawler.frontier import serializer
from linkcrawler.frontier.following import follow_pages
from linkcrawler.frontier.leases import LEASE_META
from linkcrawler.frontier.scheduler import CHARGED_META, Scheduler
from linkcrawler.frontier.serializer import Page, decode_page, encode_page
from linkcrawler.frontier.sites import SLOT_META
from spiders.backlinks import BacklinksSpider
from tests.conftest import queued_requests

FRONTIER_META = (LEASE_META, SLOT_META, CHARGED_META)


def open_frontier(redis_url: str, **settings) -> Scheduler:
    settings = {"REDIS_URL": redis_url, "DEPTH_PRIORITY": 1, "POLITENESS_ENABLED": False, **settings}
    crawler = get_crawler(BacklinksSpider, settings)
    crawler.spider = crawler._create_spider()
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def follow(scheduler: Scheduler, urls: list[str], depth: int) -> None:
    replies = scheduler.crawler.signals.send_catch_log(follow_pages, urls=urls, depth=depth)
    assert [result for _, result in replies] == [True]
    scheduler.flush()


def popped(scheduler: Scheduler) -> list[Request]:
    requests = []
    while (request := scheduler.next_request()) is not None:
        requests.append(request)
    return requests


def as_stored(request: Request, spider) -> dict:
    """A request as the spider would see it, the frontier's own bookkeeping left out."""
    whole = request.to_dict(spider=spider)
    whole["meta"] = {k: v for k, v in whole["meta"].items() if k not in FRONTIER_META}
    return whole


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://a.com/x?y=1&z", "a.com"),
        ("http://a.com:8080/", "a.com"),
        ("https://b.a.com/p", "a.com"),  # POLITENESS_BY = domain: another host of the site
        ("http://a.com.example/z", "a.com"),
        ("https://a.com/%C3%A9|x", "a.com"),
    ],
)
def test_a_page_reads_back_from_its_sites_queue_as_it_went_in(url, site):
    for depth in (0, 7, 120):
        assert decode_page(encode_page(Page(url, depth), site), site) == Page(url, depth)


def test_a_request_stored_whole_is_not_read_as_a_page():
    stored = serializer.dumps(Request("http://a.com/1x").to_dict())
    assert decode_page(stored, "a.com") is None


def test_followed_links_come_back_as_the_spiders_page_requests_at_their_depth(redis_url, redis_client):
    scheduler = open_frontier(redis_url)
    spider = scheduler.spider
    urls = ["https://a.com/", "https://a.com/deep/page?x=1", "http://b.org:8080/p", "https://c.net/%C3%A9t%C3%A9"]
    follow(scheduler, urls, depth=3)
    got = sorted(popped(scheduler), key=lambda r: r.url)
    assert [r.url for r in got] == sorted(urls)
    for request in got:
        expected = spider.page_request(request.url)
        expected.meta["depth"] = 3
        expected.priority = -3  # DepthMiddleware with DEPTH_PRIORITY = 1
        assert as_stored(request, spider) == as_stored(expected, spider)
        assert request.meta[LEASE_META]
    assert queued_requests(redis_client, spider.name) == []


def test_a_queued_url_costs_at_most_120_bytes_of_redis_at_50_a_site_and_300_alone():
    """What a broad crawl's frontier needs: `MEMORY USAGE` of the site queues and the heap, the URLs 60-90
    characters long (bench/cluster_costs.py)."""
    costs = cluster_costs.redis_costs(5_000)
    assert costs["queue_bytes_per_url_50_per_site"] <= 120
    assert costs["queue_bytes_per_url_1_per_site"] <= 300


def test_links_seen_before_are_counted_once_and_not_queued_again(redis_url, redis_client):
    scheduler = open_frontier(redis_url)
    follow(scheduler, ["https://a.com/1", "https://a.com/2"], depth=1)
    follow(scheduler, ["https://a.com/2", "https://a.com/3"], depth=2)
    assert scheduler.stats.get_value("scheduler/enqueued/redis") == 3
    assert scheduler.stats.get_value("dupefilter/filtered") == 1
    assert sorted(r.url for r in popped(scheduler)) == ["https://a.com/1", "https://a.com/2", "https://a.com/3"]


def test_a_link_followed_and_a_request_for_the_same_url_are_one_page(redis_url, redis_client):
    scheduler = open_frontier(redis_url)
    follow(scheduler, ["https://a.com/1"], depth=1)
    scheduler.enqueue_request(scheduler.spider.page_request("https://a.com/1"))
    scheduler.flush()
    assert [r.url for r in popped(scheduler)] == ["https://a.com/1"]


def test_depth_limit_and_query_parameters_hold_for_followed_links(redis_url, redis_client):
    scheduler = open_frontier(redis_url, DEPTH_LIMIT=2, MAX_QUERY_PARAMS=2)
    follow(scheduler, ["https://a.com/ok?a=1&b=2", "https://a.com/facets?a=1&b=2&c=3"], depth=2)
    follow(scheduler, ["https://a.com/too-deep"], depth=3)
    assert [r.url for r in popped(scheduler)] == ["https://a.com/ok?a=1&b=2"]
    stats = scheduler.stats
    assert stats.get_value("linkcrawler/skipped/query_params") == 1
    assert stats.get_value("depth/request_ignored_count") == 1
    assert stats.get_value("request_depth_max") == 2


def test_pages_budget_counts_followed_links(redis_url, redis_client):
    scheduler = open_frontier(redis_url, PAGES_PER_DOMAIN=2)
    follow(scheduler, ["https://a.com/1", "https://a.com/2", "https://www.a.com/3"], depth=1)
    assert len(popped(scheduler)) == 2
    assert scheduler.stats.get_value("frontier/over_domain_budget") == 1


def test_without_a_frontier_the_spider_yields_a_request_per_link(redis_url, redis_client):
    crawler = get_crawler(BacklinksSpider, {"REDIS_URL": redis_url})
    spider = crawler._create_spider()
    body = b'<a href="/a">a</a> <a href="/b">b</a> <a href="/a">again</a>'
    response = HtmlResponse("https://a.com/", body=body, headers={"Content-Type": "text/html"},
                            request=Request("https://a.com/"))  # fmt: skip
    requests = [out for out in spider.parse(response) if isinstance(out, Request)]
    assert [r.url for r in requests] == ["https://a.com/a", "https://a.com/b"]
