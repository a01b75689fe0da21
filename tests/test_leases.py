"""Leases on a real Redis: a popped request stays in Redis until acknowledged, and comes back if its worker dies."""

from __future__ import annotations

import json
import time

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from linkcrawler.frontier.leases import LEASE_META, request_done
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.scheduler import Scheduler
from linkcrawler.frontier.seeds import push_seeds, start_new_run
from linkcrawler.local.redis_server import EmbeddedRedis
from tests.conftest import command_calls, lease_ids, queued_count, queued_requests
from tests.test_frontier import Probe, open_scheduler, queued

HOLDERS = Partitions("probe", 1).key(0, "lease_holders")


def test_a_popped_request_is_leased_until_acknowledged(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    scheduler.enqueue_request(Request("http://a.com/x"))
    request = scheduler.next_request()
    lease = request.meta[LEASE_META]
    assert lease_ids(redis_client) == [lease.encode()]
    assert lease.startswith(scheduler.leases.worker + "#")
    scheduler.ack([lease])
    assert len(lease_ids(redis_client)) == 0


def test_the_leases_of_a_dead_worker_return_with_their_priority(redis_client, redis_url):
    dead, alive = open_scheduler(redis_url, LEASE_SECONDS=5), open_scheduler(redis_url)
    dead.enqueue_request(Request("http://a.com/low", priority=1))
    dead.enqueue_request(Request("http://a.com/high", priority=9))
    assert dead.next_request().url == "http://a.com/high"
    assert alive.requeue_expired() == 0  # the holder's deadline has not passed
    assert alive.requeue_expired(now=dead.leases.lease_seconds * 10**9) == 2  # the one asked for, one prefetched
    assert len(lease_ids(redis_client)) == 0
    assert [alive.next_request().url for _ in range(2)] == ["http://a.com/high", "http://a.com/low"]


def test_closing_returns_unfinished_leases_to_the_frontier(redis_client, redis_url):
    first, second = open_scheduler(redis_url), open_scheduler(redis_url)
    first.enqueue_request(Request("http://a.com/1"))
    first.next_request()
    first.close("shutdown")
    assert second.next_request().url == "http://a.com/1"


def test_a_retry_is_queued_again_and_its_old_lease_released(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    scheduler.enqueue_request(Request("http://a.com/flaky"))
    request = scheduler.next_request()
    retry = request.replace(dont_filter=True)
    assert scheduler.enqueue_request(retry)
    assert len(lease_ids(redis_client)) == 0 and queued_count(redis_client) == 1
    again = scheduler.next_request()
    assert again.url == "http://a.com/flaky" and again.meta[LEASE_META] != request.meta[LEASE_META]


def test_the_request_done_signal_and_dropped_items_acknowledge(redis_client, redis_url):
    crawler = get_crawler(Probe, {"REDIS_URL": redis_url})
    crawler.spider = crawler._create_spider()
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    for n in range(2):
        scheduler.enqueue_request(Request(f"http://a.com/{n}"))
    first, second = scheduler.next_request(), scheduler.next_request()
    crawler.signals.send_catch_log(request_done, leases=[first.meta[LEASE_META]])
    scheduler.item_done(item=type("Records", (), {"leases": [second.meta[LEASE_META]]})())
    assert len(lease_ids(redis_client)) == 0


@pytest.mark.faults
def test_an_ack_that_meets_redis_down_goes_with_the_next_round_trip(tmp_path):
    """Issue 23 #4: the store's `request_done` reached a Redis that was down (past the client's retries); the error
    was logged and the ack dropped, so the lease stayed held by a live worker forever and the crawl never ended."""
    with EmbeddedRedis(data_dir=tmp_path / "redis", persist=True) as server:
        scheduler = open_scheduler(server.url, REDIS_RETRIES=0)
        scheduler.enqueue_request(Request("http://a.com/page"))
        scheduler.enqueue_request(Request("http://a.com/linked"))
        request = scheduler.next_request()
        server.kill()
        scheduler.crawler.signals.send_catch_log(request_done, leases=[request.meta[LEASE_META]])
        server.start()
        assert scheduler.leases.leased() == 2  # the page's lease and the prefetched one
        assert scheduler.has_pending_requests()  # a round trip: the ack rides with it
        assert scheduler.leases.leased() == 1
        assert scheduler.stats.get_value("frontier/acks_carried") == 1
        scheduler.ack([scheduler.next_request().meta[LEASE_META]])
        assert scheduler.leases.leased() == 0 and not scheduler.has_pending_requests()


def test_seen_and_queued_are_one_step(redis_client, redis_url):
    """The seen-set never holds a fingerprint whose request is missing from the queue (or leased)."""
    scheduler = open_scheduler(redis_url)
    assert queued(scheduler, Request("http://a.com/p")) == 1
    assert sum(map(redis_client.scard, redis_client.scan_iter("probe:*:dupefilter"))) == 1
    assert queued_count(redis_client) == 1
    assert queued(scheduler, Request("http://a.com/p")) == 0
    assert queued_count(redis_client) == 1


def test_leases_can_be_turned_off(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, FRONTIER_LEASES=False)
    scheduler.enqueue_request(Request("http://a.com/x"))
    assert LEASE_META not in scheduler.next_request().meta
    assert len(lease_ids(redis_client)) == 0


def test_a_new_run_revisits_pages_and_keeps_requests_in_progress(redis_client, redis_url):
    """A dead worker's lease from the last run still comes back; the seen-set starts afresh."""
    scheduler = open_scheduler(redis_url)
    scheduler.enqueue_request(Request("http://a.com/in-progress"))
    scheduler.enqueue_request(Request("http://a.com/done"))
    leased = [scheduler.next_request() for _ in range(2)]
    scheduler.ack([r.meta[LEASE_META] for r in leased if r.url.endswith("/done")])
    start_new_run(redis_client, spider="probe")
    assert len(lease_ids(redis_client)) == 1
    other = open_scheduler(redis_url)
    assert queued(other, Request("http://a.com/done")) == 1
    assert other.requeue_expired(now=10**12) == 1
    assert sorted(other.next_request().url for _ in range(2)) == ["http://a.com/done", "http://a.com/in-progress"]


def test_a_lease_whose_pop_reply_was_lost_goes_back_when_idle(redis_client, redis_url):
    """Redis ran the pop but the worker never got the request (reply lost in a restart)."""
    scheduler = open_scheduler(redis_url, FRONTIER_PREFETCH=1)
    scheduler.enqueue_request(Request("http://a.com/lost"))
    scheduler.enqueue_request(Request("http://a.com/kept"))
    kept = scheduler.next_request()
    holder = scheduler.leases.worker
    scheduler.pops.pop_as([f"{holder}#lost"])
    assert scheduler.requeue_orphans() == 1
    assert lease_ids(redis_client) == [kept.meta[LEASE_META].encode()]
    assert {scheduler.next_request().url, kept.url} == {"http://a.com/lost", "http://a.com/kept"}


def test_a_live_worker_keeps_its_leases_past_lease_seconds_by_renewing(redis_client, redis_url):
    """A download longer than LEASE_SECONDS is not handed to another worker while its worker beats."""
    slow, other = open_scheduler(redis_url, LEASE_SECONDS=10), open_scheduler(redis_url)
    slow.enqueue_request(Request("http://a.com/slow"))
    slow.next_request()
    time.sleep(0.05)
    deadline = float(redis_client.zscore(HOLDERS, slow.leases.worker))
    slow.renew_leases()
    renewed = float(redis_client.zscore(HOLDERS, slow.leases.worker))
    assert renewed > deadline
    assert other.requeue_expired(now=(deadline + renewed) / 2) == 0  # past the first deadline only
    assert other.requeue_expired(now=renewed + 1) == 1


def test_a_pop_retried_after_its_reply_was_lost_gets_the_same_request(redis_client, redis_url):
    """Redis ran the pop, then died before replying; the client's retry runs the script again with the same
    lease id. Found by the Redis-restart fault test: the retry popped a second request and wrote it over the
    first one's lease, and the first page was never fetched."""
    scheduler = open_scheduler(redis_url)
    assert queued(scheduler, Request("http://a.com/first"), Request("http://a.com/second")) == 2
    holder = scheduler.leases.worker
    lost_reply = scheduler.pops.pop_as([f"{holder}#lost-reply"])
    retried = scheduler.pops.pop_as([f"{holder}#lost-reply"])
    assert retried[0] == lost_reply[0]
    assert len(lease_ids(redis_client)) == 1
    assert scheduler.next_request().url == "http://a.com/second"


def test_prefetched_requests_are_leased_and_cost_one_round_trip(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, FRONTIER_PREFETCH=4, POLITENESS_CONCURRENCY=8)
    other = open_scheduler(redis_url, POLITENESS_CONCURRENCY=8)
    assert queued(scheduler, *(Request(f"http://a.com/{n}", priority=-n) for n in range(6))) == 6
    redis_client.config_resetstat()
    requests = [scheduler.next_request() for _ in range(5)]
    assert [r.url for r in requests] == [f"http://a.com/{n}" for n in range(5)]
    assert command_calls(redis_client, "evalsha") == 2
    assert len(lease_ids(redis_client)) == 6  # the sixth is waiting in the worker, leased
    scheduler.ack([r.meta[LEASE_META] for r in requests])
    scheduler.close("shutdown")
    assert other.next_request().url == "http://a.com/5"


START = "probe:start_urls"


def _seeds(redis_client, count: int) -> list[bytes]:
    seeds = [json.dumps({"url": f"http://a.com/seed{n}"}).encode() for n in range(count)]
    redis_client.rpush(START, *seeds)
    return seeds


def _seed_request(data: bytes) -> Request:
    return Request(json.loads(data)["url"])


def _dies(data: bytes) -> Request:
    raise KeyboardInterrupt  # the worker stops between taking its seeds and queueing them


def test_seeds_go_from_the_start_list_straight_onto_the_frontier(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    seeds = _seeds(redis_client, 3)
    assert scheduler.take_seeds(_seed_request, 2) == 2
    assert redis_client.lrange(START, 0, -1) == seeds[2:]
    assert [scheduler.next_request().url for _ in range(2)] == ["http://a.com/seed0", "http://a.com/seed1"]
    assert not redis_client.keys("probe:seeds_taken*")


def test_seeds_taken_by_a_worker_that_dies_before_queueing_them_go_back_to_the_head_of_the_start_list(
    redis_client, redis_url
):
    dead, alive = open_scheduler(redis_url, LEASE_SECONDS=5), open_scheduler(redis_url)
    seeds = _seeds(redis_client, 3)
    with pytest.raises(KeyboardInterrupt):
        dead.take_seeds(_dies, 2)
    assert redis_client.lrange(START, 0, -1) == seeds[2:] and queued_count(redis_client) == 0
    assert alive.requeue_expired() == 0  # the taker's deadline has not passed
    assert alive.requeue_expired(now=dead.leases.lease_seconds * 10**9) == 2
    assert redis_client.lrange(START, 0, -1) == seeds
    assert alive.take_seeds(_seed_request, 3) == 3 and queued_count(redis_client) == 3


def test_a_failed_take_is_retried_with_the_seeds_it_took(redis_client, redis_url):
    scheduler = open_scheduler(redis_url)
    seeds = _seeds(redis_client, 3)
    with pytest.raises(KeyboardInterrupt):
        scheduler.take_seeds(_dies, 2)
    assert scheduler.take_seeds(_seed_request, 2) == 2
    assert redis_client.lrange(START, 0, -1) == seeds[2:]
    assert {scheduler.next_request().url for _ in range(2)} == {"http://a.com/seed0", "http://a.com/seed1"}


def test_a_batch_of_seeds_past_luas_unpack_limit_is_taken_whole(redis_client, redis_url):
    """Issue 23 #5: 9,000 seeds with REDIS_START_URLS_BATCH_SIZE raised; the take script's one `unpack` failed
    after its pop, and the start list and the taken list were both empty."""
    scheduler = open_scheduler(redis_url, REDIS_START_URLS_BATCH_SIZE=9_000)
    urls = [f"http://s{n % 30}.example.com/seed{n}" for n in range(9_000)]
    assert push_seeds(redis_client, urls, spider="probe") == 9_000
    batch = scheduler.crawler.settings.getint("REDIS_START_URLS_BATCH_SIZE")
    assert scheduler.take_seeds(_seed_request, batch) == 9_000
    assert redis_client.llen(START) == 0 and queued_count(redis_client) == 9_000
    assert sorted(json.loads(raw)["url"] for raw in queued_requests(redis_client)) == sorted(urls)


def test_without_leases_seeds_are_popped_and_queued_in_one_step(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, FRONTIER_LEASES=False)
    _seeds(redis_client, 2)
    assert scheduler.take_seeds(_seed_request, 5) == 2
    assert redis_client.llen(START) == 0 and queued_count(redis_client) == 2
