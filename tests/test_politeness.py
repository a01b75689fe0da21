"""Shared per-site slots on a real Redis, and robots.txt Crawl-delay reaching them."""

from __future__ import annotations

import asyncio
import time

import pytest
from scrapy import Request, Spider
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler
from twisted.internet import task
from twisted.internet.defer import Deferred

from linkcrawler.downloader.politeness import CRAWL_DELAY_META, SLOT_META, PolitenessMiddleware, SiteSlots
from linkcrawler.downloader.robots import RobotsTxtMiddleware
from linkcrawler.errors import UserError
from tests.conftest import command_calls


class Probe(Spider):
    name = "probe"


def test_a_site_gets_at_most_its_concurrency(redis_client):
    slots = SiteSlots(redis_client, "probe:politeness", slot_seconds=60)
    assert [slots.acquire("a.com", f"t{n}", 2, 0) for n in range(3)] == [0, 0, -1]
    assert slots.acquire("b.com", "t9", 2, 0) == 0  # other sites are not held up
    slots.release("a.com", "t0")
    assert slots.acquire("a.com", "t3", 2, 0) == 0


def test_a_delay_spaces_requests_to_one_site(redis_client):
    slots = SiteSlots(redis_client, "probe:politeness", slot_seconds=60)
    assert slots.acquire("a.com", "t0", 5, 10.0) == 0
    wait = slots.acquire("a.com", "t1", 5, 10.0)
    assert 9000 < wait <= 10000


def test_a_dead_workers_slots_expire(redis_client):
    slots = SiteSlots(redis_client, "probe:politeness", slot_seconds=0.001)
    assert slots.acquire("a.com", "t0", 1, 0) == 0
    time.sleep(0.01)
    assert slots.acquire("a.com", "t1", 1, 0) == 0


def test_robots_crawl_delay_is_passed_to_the_slots():
    crawler = get_crawler(Probe, {"ROBOTSTXT_OBEY": True})
    middleware = RobotsTxtMiddleware(crawler)
    parser = ProtegoRobotParser(b"User-agent: *\nCrawl-delay: 3\nDisallow: /private/\n", None)
    request = Request("http://a.com/page")
    middleware.process_request_2(parser, request)
    assert request.meta[CRAWL_DELAY_META] == 3


def test_bad_settings_stop_the_worker_in_one_line(redis_url):
    with pytest.raises(UserError, match="POLITENESS_BY: 'site' is neither"):
        PolitenessMiddleware.from_crawler(get_crawler(Probe, {"REDIS_URL": redis_url, "POLITENESS_BY": "site"}))


class RecordingSlots:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def acquire(self, site: str, token: str, concurrency: int, delay: float) -> int:
        self.calls.append((site, delay))
        return 0

    def release(self, site: str, token: str) -> None:
        self.calls.append((site, -1))


@pytest.mark.parametrize(
    ("by_domain", "crawl_delay", "expected"), [(True, 30, ("a.co.uk", 5.0)), (False, None, ("www.a.co.uk", 0.5))]
)
def test_the_slot_is_per_site_with_the_larger_delay_capped(by_domain, crawl_delay, expected):
    slots = RecordingSlots()
    middleware = PolitenessMiddleware(slots, concurrency=2, delay=0.5, by_domain=by_domain, crawl_delay=True,
                                      max_delay=5.0)  # fmt: skip
    request = Request("http://www.a.co.uk/x", meta={CRAWL_DELAY_META: crawl_delay})
    asyncio.run(middleware.process_request(request))
    middleware.process_response(request, None)
    assert slots.calls == [expected, (expected[0], -1)]


def waiting_middleware(redis_client, clock: task.Clock) -> PolitenessMiddleware:
    slots = SiteSlots(redis_client, "probe:politeness", slot_seconds=60)
    return PolitenessMiddleware(slots, concurrency=1, delay=0, by_domain=False, crawl_delay=False, max_delay=0,
                                clock=clock)  # fmt: skip


def test_a_request_waiting_for_a_busy_site_takes_the_slot_its_worker_frees_at_once(redis_client):
    clock = task.Clock()
    middleware = waiting_middleware(redis_client, clock)
    first, second = Request("http://a.com/1"), Request("http://a.com/2")
    assert Deferred.fromCoroutine(middleware.process_request(first)).called
    redis_client.config_resetstat()
    waiting = Deferred.fromCoroutine(middleware.process_request(second))
    assert not waiting.called
    assert command_calls(redis_client, "evalsha") == 0  # the worker knew the site was full: it did not ask
    middleware.process_response(first, None)
    assert waiting.called and SLOT_META in second.meta  # the clock never moved: no poll interval was waited
    assert command_calls(redis_client, "evalsha") == 1


def test_a_slot_another_worker_holds_is_polled_with_backoff(redis_client):
    clock = task.Clock()
    middleware = waiting_middleware(redis_client, clock)
    other = SiteSlots(redis_client, "probe:politeness", slot_seconds=60)
    assert other.acquire("a.com", "other-worker", 1, 0) == 0
    waiting = Deferred.fromCoroutine(middleware.process_request(Request("http://a.com/1")))
    clock.advance(PolitenessMiddleware.POLL_SECONDS * 1.2)  # first poll: still busy
    assert not waiting.called
    other.release("a.com", "other-worker")
    clock.advance(PolitenessMiddleware.POLL_SECONDS)  # the interval has doubled
    assert not waiting.called
    clock.advance(PolitenessMiddleware.POLL_SECONDS * 1.4)
    assert waiting.called
