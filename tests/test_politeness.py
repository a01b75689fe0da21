"""Politeness as the frontier hands it out, on a real Redis: per-site queues, slots, delays, rotation, Crawl-delay."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
import redis
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler
from twisted.internet import task
from twisted.internet.defer import Deferred

from linkcrawler.downloader.politeness import CRAWL_DELAY_META, PolitenessMiddleware
from linkcrawler.downloader.robots import RobotsTxtMiddleware, RobotsTxtShare
from linkcrawler.errors import UserError
from linkcrawler.frontier.leases import LEASE_META
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.sites import SLOT_META, Popped
from linkcrawler.local.redis_server import EmbeddedRedis
from tests.test_frontier import open_scheduler, queued


class Probe(Spider):
    name = "probe"


def urls(requests) -> list[str]:
    return [r.url for r in requests]


def slots(scheduler, site: str) -> str:
    """The key of a site's slots (lease ids of its requests in flight)."""
    return scheduler.partitions.key(scheduler.partitions.of_site(site), f"slots:{site}")


def pop_all(scheduler) -> list[Request]:
    popped = []
    while (request := scheduler.next_request()) is not None:
        popped.append(request)
    return popped


def test_pops_rotate_over_sites_and_take_each_sites_best_first(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, FRONTIER_PREFETCH=6, POLITENESS_CONCURRENCY=4)
    requests = [Request(f"http://{site}/{n}", priority=-n) for n in range(2) for site in ("a.com", "b.com", "c.com")]
    assert queued(scheduler, *reversed(requests)) == 6
    first_three = [scheduler.next_request() for _ in range(3)]
    assert sorted(urls(first_three)) == ["http://a.com/0", "http://b.com/0", "http://c.com/0"]
    assert sorted(urls(pop_all(scheduler))) == ["http://a.com/1", "http://b.com/1", "http://c.com/1"]


def test_a_site_gives_no_more_than_its_concurrency_until_a_slot_is_freed(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, FRONTIER_PREFETCH=4, POLITENESS_CONCURRENCY=2)
    assert queued(scheduler, *(Request(f"http://a.com/{n}") for n in range(4)), Request("http://b.com/")) == 5
    held = pop_all(scheduler)
    assert sorted(urls(held)) == ["http://a.com/0", "http://a.com/1", "http://b.com/"]
    scheduler._not_before = 0.0  # a worker would look again at its next wake
    assert scheduler.next_request() is None
    a_request, b_request = (next(r for r in held if site in r.url) for site in ("a.com", "b.com"))
    scheduler.request_left(a_request)
    assert redis_client.zcard(slots(scheduler, "a.com")) == 2  # not sent on its own...
    assert urls(pop_all(scheduler)) == ["http://a.com/2"]  # ...but by the next pop, ahead of it
    scheduler.request_left(b_request)
    scheduler.flush()
    assert redis_client.zcard(slots(scheduler, "b.com")) == 0


def test_links_and_freed_slots_redis_cannot_take_wait_for_the_next_round_trip(caplog):
    """Redis down when links and freed slots go on their own: one warning each time, nothing dropped; sent once
    Redis is back."""
    with EmbeddedRedis(persist=True) as server:
        scheduler = open_scheduler(server.url, REDIS_RETRIES=0)
        client = redis.Redis.from_url(server.url)
        assert queued(scheduler, Request("http://a.com/0"), Request("http://a.com/1")) == 2
        popped = scheduler.next_request()
        assert client.zscore(slots(scheduler, "a.com"), popped.meta[LEASE_META]) is not None
        server.kill()
        scheduler.request_left(popped)
        scheduler._flush_later()
        scheduler.enqueue_request(Request("http://b.com/"))
        scheduler._flush_later()
        warnings = [r.getMessage() for r in caplog.records if r.name == "linkcrawler.frontier.scheduler"]
        assert len(warnings) == 2 and all(w.startswith("Could not reach Redis (") for w in warnings)
        server.start()
        scheduler.flush()
        assert client.zscore(slots(scheduler, "a.com"), popped.meta[LEASE_META]) is None
        assert client.zcard(slots(scheduler, "b.com").replace(":slots:", ":queue:")) == 1


def test_a_dropped_requests_acknowledgement_frees_its_slot(redis_client, redis_url):
    """A robots.txt refusal never reaches the downloader: the lease's ack frees the slot."""
    scheduler = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1)
    assert queued(scheduler, Request("http://a.com/private"), Request("http://a.com/public")) == 2
    refused = scheduler.next_request()
    scheduler._not_before = 0.0
    assert scheduler.next_request() is None
    scheduler.ack([refused.meta[LEASE_META]])
    scheduler._not_before = 0.0
    assert scheduler.next_request() is not None


def test_a_delay_counts_from_the_end_of_the_sites_request_and_says_when_to_look_again(redis_client, redis_url):
    """A site with a delay gets one request at a time: a request that left its worker late must not reach the server
    less than the delay before the next, so the next waits for its end."""
    scheduler = open_scheduler(redis_url, POLITENESS_DELAY=0.3, POLITENESS_CONCURRENCY=4)
    assert queued(scheduler, Request("http://a.com/1"), Request("http://a.com/2"), Request("http://b.com/")) == 3
    first = pop_all(scheduler)
    assert sorted(urls(first)) == ["http://a.com/1", "http://b.com/"]
    time.sleep(0.3)
    scheduler._not_before = 0.0
    assert pop_all(scheduler) == []
    scheduler.request_left(next(request for request in first if request.url == "http://a.com/1"))
    assert pop_all(scheduler) == []
    assert 0.2 < scheduler._not_before - time.monotonic() <= 0.3
    time.sleep(0.3)
    assert urls(pop_all(scheduler)) == ["http://a.com/2"]


def test_a_dead_workers_slots_expire(redis_client, redis_url):
    dead = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1, POLITENESS_SLOT_SECONDS=0.05)
    alive = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1, POLITENESS_SLOT_SECONDS=0.05)
    assert queued(dead, Request("http://a.com/1"), Request("http://a.com/2")) == 2
    assert dead.next_request() is not None
    assert alive.next_request() is None
    time.sleep(0.06)
    alive._not_before = 0.0
    assert alive.next_request().url == "http://a.com/2"


def test_sites_are_registered_domains_with_politeness_by_domain(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, POLITENESS_BY="domain", POLITENESS_CONCURRENCY=1)
    assert queued(scheduler, Request("http://www.a.com/"), Request("http://blog.a.com/")) == 2
    assert len(pop_all(scheduler)) == 1


def test_robots_crawl_delay_reaches_the_request():
    crawler = get_crawler(Probe, {"ROBOTSTXT_OBEY": True})
    middleware = RobotsTxtMiddleware(crawler)
    parser = ProtegoRobotParser(b"User-agent: *\nCrawl-delay: 3\nDisallow: /private/\n", None)
    request = Request("http://a.com/page")
    middleware.process_request_2(parser, request)
    assert request.meta[CRAWL_DELAY_META] == 3


def test_a_crawl_delay_becomes_the_sites_delay_for_every_worker(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, POLITENESS_CONCURRENCY=4, FRONTIER_PREFETCH=1)
    middleware = PolitenessMiddleware.from_crawler(get_crawler(Probe, {"REDIS_URL": redis_url}))
    middleware.timer = task.Clock()
    assert queued(scheduler, *(Request(f"http://a.com/{n}") for n in range(3))) == 3
    first = scheduler.next_request()
    first.meta[CRAWL_DELAY_META] = 5
    assert not Deferred.fromCoroutine(middleware.process_request(first)).called  # robots.txt was just read
    scheduler.request_left(first)
    scheduler.flush()
    other = open_scheduler(redis_url, POLITENESS_CONCURRENCY=4)
    leased, wait = other.pops.pop(2)
    assert leased == [] and 4 < wait <= 5


def test_a_crawl_delay_over_the_maximum_drops_the_sites_requests(redis_client, redis_url):
    crawler = get_crawler(Probe, {"REDIS_URL": redis_url, "POLITENESS_MAX_DELAY": 30})
    crawler.stats.open_spider()
    middleware = PolitenessMiddleware.from_crawler(crawler)
    request = Request("http://a.com/", meta={CRAWL_DELAY_META: 3600})
    with pytest.raises(IgnoreRequest, match="Crawl-delay of 3600 s, over POLITENESS_MAX_DELAY"):
        asyncio.run(middleware.process_request(request))
    assert crawler.stats.get_value("politeness/crawl_delay_over_max") == 1


def test_a_late_request_waits_for_its_sites_delay(redis_client, redis_url):
    """One that waited for robots.txt after its pop, or robots.txt itself, checks in first."""
    clock = task.Clock()
    middleware = PolitenessMiddleware.from_crawler(get_crawler(Probe, {"REDIS_URL": redis_url, "POLITENESS_DELAY": 10}))
    middleware.timer = clock
    robots = Request("http://a.com/robots.txt")
    assert Deferred.fromCoroutine(middleware.process_request(robots)).called  # the site's first request
    late = Request("http://a.com/page", meta={SLOT_META: Popped("probe#1", time.monotonic() - 1)})
    waiting = Deferred.fromCoroutine(middleware.process_request(late))
    clock.advance(9)
    assert not waiting.called
    partitions = Partitions.of_crawl(redis_client, "probe")
    site_last = partitions.key(partitions.of_site("a.com"), "last:a.com")
    redis_client.set(site_last, time.time() - 10)  # as if the delay had passed in Redis time
    clock.advance(2)
    assert waiting.called


def test_bad_settings_stop_the_worker_in_one_line(redis_client, redis_url):
    with pytest.raises(UserError, match="POLITENESS_BY: 'site' is neither"):
        PolitenessMiddleware.from_crawler(get_crawler(Probe, {"REDIS_URL": redis_url, "POLITENESS_BY": "site"}))


def test_a_dead_workers_requests_and_slots_come_back_at_once(redis_client, redis_url):
    """Its site was full (rescored to when the slot would expire): giving the lease back makes it due now."""
    dead = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1, LEASE_SECONDS=0.01)
    alive = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1)
    assert queued(dead, Request("http://a.com/1"), Request("http://a.com/2")) == 2
    assert dead.next_request() is not None
    assert alive.next_request() is None
    time.sleep(0.02)
    assert alive.requeue_expired() == 1
    alive._not_before = 0.0
    assert sorted(urls(pop_all(alive))) == ["http://a.com/1"]


def test_a_robots_txt_one_worker_fetched_answers_the_others_but_a_server_error_does_not(redis_client, redis_url):
    """What a second worker reads instead of fetching: the status and rules of the first's answer, for the
    same URL only; a 5xx is not kept (each worker tries again), nor anything for ordinary pages."""
    settings = {"REDIS_URL": redis_url, "ROBOTSTXT_OBEY": True}
    first, second = (RobotsTxtShare.from_crawler(get_crawler(Probe, settings)) for _ in range(2))

    def robots(url: str) -> Request:
        return Request(url, meta={"dont_obey_robotstxt": True})

    rules = b"User-agent: *\nDisallow: /private/\n"
    first.process_response(robots("http://a.com/robots.txt"), Response("http://a.com/robots.txt", body=rules))
    first.process_response(robots("http://b.com/robots.txt"), Response("http://b.com/robots.txt", status=503))
    first.process_response(Request("http://a.com/page"), Response("http://a.com/page", body=b"<html>"))
    answer = second.process_request(robots("http://a.com/robots.txt"))
    assert (answer.status, answer.body) == (200, rules)
    assert not ProtegoRobotParser(answer.body, None).allowed("http://a.com/private/x", "linkcrawler")
    assert second.process_request(robots("https://a.com/robots.txt")) is None
    assert second.process_request(robots("http://b.com/robots.txt")) is None
    assert second.process_request(Request("http://a.com/page")) is None
    missing = Response("http://c.com/robots.txt", status=404, body=b"not here")
    first.process_response(robots("http://c.com/robots.txt"), missing)
    assert second.process_request(robots("http://c.com/robots.txt")).status == 404


def test_with_redis_unreachable_a_worker_fetches_robots_txt_itself_and_keeps_its_answer(caplog):
    """A Redis error must not fail the robots.txt request: Scrapy would then obey no rule for that site."""
    share = RobotsTxtShare(redis.Redis(port=1, socket_connect_timeout=0.5), "robots", 86_400)
    request = Request("http://a.com/robots.txt", meta={"dont_obey_robotstxt": True})
    rules = Response("http://a.com/robots.txt", body=b"User-agent: *\nDisallow: /private/\n")

    assert share.process_request(request) is None
    assert share.process_response(request, rules) is rules
    assert [record.levelname for record in caplog.records] == ["WARNING", "WARNING"]


def test_robots_txt_sharing_can_be_turned_off(redis_url):
    settings = {"REDIS_URL": redis_url, "ROBOTSTXT_OBEY": True, "ROBOTSTXT_SHARE_SECONDS": 0}
    with pytest.raises(NotConfigured):
        RobotsTxtShare.from_crawler(get_crawler(Probe, settings))


def test_a_worker_with_another_partition_count_is_refused_in_one_line(redis_client, redis_url):
    open_scheduler(redis_url, FRONTIER_PARTITIONS=16)
    with pytest.raises(UserError, match=r"has 16 partition\(s\) .* this worker has FRONTIER_PARTITIONS=8; give"):
        open_scheduler(redis_url, FRONTIER_PARTITIONS=8)


def kept_for_good(redis_client, sites: list[str]) -> list[str]:
    """What Redis keeps about these sites with no expiry: keys naming one, and hash fields or set members that do."""
    members = {
        "hash": redis_client.hkeys,
        "set": redis_client.smembers,
        "zset": lambda key: redis_client.zrange(key, 0, -1),
    }
    kept = []
    for key in redis_client.scan_iter():
        name = key.decode()
        if any(site in name for site in sites):
            kept += [name] if redis_client.pttl(key) < 0 else []
        elif (read := members.get(redis_client.type(key).decode())) is not None:
            kept += [f"{name} {m.decode()}" for m in read(key) if any(site in m.decode() for site in sites)]
    return kept


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_sites_crawled_to_the_end_leave_nothing_behind_once_their_delay_has_passed(redis_client, redis_url, delay):
    """Their last request's time matters only until their delay has passed, and not at all without a delay."""
    sites = [f"site{n}.com" for n in range(30)]
    scheduler = open_scheduler(redis_url, POLITENESS_DELAY=delay, POLITENESS_CONCURRENCY=1, FRONTIER_PREFETCH=30)
    assert queued(scheduler, *(Request(f"http://{site}/") for site in sites)) == 30
    popped = pop_all(scheduler)
    assert len(popped) == 30
    for request in popped:
        scheduler.request_left(request)
    scheduler.ack([request.meta[LEASE_META] for request in popped])
    time.sleep(delay + 0.05)
    assert kept_for_good(redis_client, sites) == []
    assert [key for key in redis_client.scan_iter() if any(site in key.decode() for site in sites)] == []


def test_a_crawl_delay_expires_and_counts_from_the_end_of_the_sites_request(redis_client, redis_url):
    """The request that brought it waits for it (robots.txt was just read); Redis keeps it with an expiry."""
    scheduler = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1)
    middleware = PolitenessMiddleware.from_crawler(get_crawler(Probe, {"REDIS_URL": redis_url}))
    middleware.timer = clock = task.Clock()
    assert queued(scheduler, Request("http://a.com/")) == 1
    request = scheduler.next_request()
    request.meta[CRAWL_DELAY_META] = 0.6  # long enough for the second pop below to come within it on a busy machine
    waiting = Deferred.fromCoroutine(middleware.process_request(request))
    assert not waiting.called
    time.sleep(0.65)
    clock.advance(0.6 * 1.1)  # the wait is jittered by up to 10%
    assert waiting.called
    scheduler.request_left(request)
    scheduler.ack([request.meta[LEASE_META]])
    assert kept_for_good(redis_client, ["a.com"]) == []
    other = open_scheduler(redis_url, POLITENESS_CONCURRENCY=1)
    assert queued(other, Request("http://a.com/2")) == 1
    leased, wait = other.pops.pop(1)
    assert leased == [] and 0 < wait <= 0.6  # the delay still holds, counted from the request's end


@pytest.mark.parametrize("key", ["probe:requests", "probe:sites", "probe:leases", "site_last", "site_delay"])
def test_a_worker_refuses_a_frontier_kept_in_another_format_and_touches_nothing(redis_client, redis_url, key):
    """Frontiers kept in one sorted set, in per-site queues outside the partitions, or with their sites' clocks in
    hashes: their requests would never be popped."""
    if not key.startswith("probe:"):
        key = Partitions.of_crawl(redis_client, "probe").key(0, key)
    redis_client.zadd(key, {"a.com": 1})
    with pytest.raises(UserError, match=rf"format this worker does not know \({re.escape(key)}\): run `linkcrawler"):
        open_scheduler(redis_url)
    assert redis_client.keys("*") == [key.encode()]
