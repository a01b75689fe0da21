"""Round trips on a real Redis: a pipeline sent now and read later, and a pop that does not wait for its reply."""

from __future__ import annotations

import pytest
import redis
from scrapy import Request

from linkcrawler.frontier.leases import LEASE_META
from linkcrawler.frontier.roundtrips import Outbox
from tests.conftest import lease_ids, queued_count
from tests.crawlfaults import wait_for
from tests.test_frontier import open_scheduler

ECHO = "return ARGV[1]"


def test_a_pipeline_sent_now_is_read_later_with_what_it_carried(redis_client):
    echo = redis_client.register_script(ECHO)
    outbox, carried = Outbox(redis_client), []
    outbox.add([(echo, [], ["carried"])], carried.extend)
    sent = outbox.send([(echo, [], ["asked"])])
    assert carried == []
    assert sent.replies() == [b"asked"]
    assert carried == [b"carried"]
    assert outbox.run([]) == []  # nothing left to carry


def test_a_sent_pipeline_that_loses_its_connection_keeps_what_it_carried(redis_client):
    echo = redis_client.register_script(ECHO)
    outbox, carried = Outbox(redis_client), []
    outbox.add([(echo, [], ["link"])], carried.extend)
    sent = outbox.send([(echo, [], ["pop"])])
    sent.connection.disconnect()  # the reply is lost with it
    with pytest.raises(redis.ConnectionError):
        sent.replies()
    assert carried == []
    outbox.run([])  # the next round trip carries it again
    assert carried == [b"link"]
    assert outbox.send([(echo, [], ["again"])]).replies() == [b"again"]  # the outbox connects again


def test_a_sent_script_the_server_does_not_know_is_loaded_and_run(redis_client):
    echo = redis_client.register_script(ECHO)
    outbox = Outbox(redis_client)
    outbox.run([(echo, [], ["loaded"])])
    redis_client.script_flush()  # as a restart or a promoted replica forgets scripts
    assert outbox.send([(echo, [], ["x"]), (echo, [], ["y"])]).replies() == [b"x", b"y"]


def test_a_pop_sent_now_and_read_later_leases_what_a_blocking_pop_leases(redis_client, redis_url):
    scheduler = open_scheduler(redis_url, FRONTIER_PREFETCH=4)
    assert scheduler.leases.send_pop(2) is None  # no partition known to hold work: the caller pops the blocking way
    for n in range(3):
        scheduler.enqueue_request(Request(f"http://site{n}.com/"))
    scheduler.flush()
    pending = scheduler.leases.send_pop(2)
    leased, wait = scheduler.leases.receive_pop(pending)
    assert len(leased) == 2 and wait == 0
    assert sorted(lease.encode() for lease, _ in leased) == sorted(lease_ids(redis_client))
    assert scheduler.leases.held == {lease for lease, _ in leased}
    assert queued_count(redis_client) == 1


def test_a_pop_whose_reply_is_lost_is_read_again_and_leases_nothing_twice(redis_client, redis_url):
    """The pop ran in Redis, but its reply was cut: running it again under the same ids returns what it leased."""
    scheduler = open_scheduler(redis_url)
    for n in range(3):
        scheduler.enqueue_request(Request(f"http://site{n}.com/"))
    scheduler.flush()
    pending = scheduler.leases.send_pop(2)
    wait_for(lambda: queued_count(redis_client) == 1, 5, "Redis to run the pop")
    pending.sent.connection.disconnect()  # its reply is lost with it
    leased, _ = scheduler.leases.receive_pop(pending)
    assert len(leased) == 2
    assert sorted(lease_ids(redis_client)) == sorted(lease.encode() for lease, _ in leased)
    assert queued_count(redis_client) == 1


def test_an_ack_reads_the_pop_in_flight_first(redis_client, redis_url, monkeypatch):
    """The pop may carry the links of the page being acknowledged: they must be queued before its lease goes."""
    scheduler = open_scheduler(redis_url)
    scheduler.engine = object()  # in a crawl: pops are sent and read when their reply comes
    monkeypatch.setattr("linkcrawler.frontier.scheduler.reactor.addReader", lambda reader: None)
    monkeypatch.setattr("linkcrawler.frontier.scheduler.reactor.removeReader", lambda reader: None)
    scheduler.enqueue_request(Request("http://a.com/page"))
    scheduler.enqueue_request(Request("http://b.com/other"))
    assert scheduler.next_request() is None  # sent; the engine is woken when it is read
    scheduler.finish_pop()
    page = scheduler.next_request()
    scheduler.enqueue_request(Request("http://a.com/linked"))
    assert scheduler.next_request().url == "http://b.com/other"
    redis_client.client_pause(300, all=False)  # scripts wait: the pop's reply cannot be in before the ack
    assert scheduler.next_request() is None  # a pop carrying the link, its reply not read
    scheduler.ack([page.meta[LEASE_META]])
    assert scheduler.stats.get_value("scheduler/enqueued/redis") == 3  # the carried link's reply was read
    assert page.meta[LEASE_META].encode() not in lease_ids(redis_client)
