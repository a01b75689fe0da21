"""MongoDB outages: batches are retried, buffered within a bound, spilled to disk and replayed; none is lost.

The writer runs on a `task.Clock` with a synchronous runner, so an outage of
minutes is stepped through in milliseconds and every retry is observable.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from pymongo.errors import AutoReconnect
from twisted.internet import defer, task

from linkcrawler.store.journal import replay
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database
from linkcrawler.store.spill import SpillingWriter, SpillPolicy
from tests.test_store import link_doc, page_doc

pytestmark = pytest.mark.faults

T0 = datetime(2026, 3, 1, tzinfo=UTC)


class FlakyStore:
    """A real `LinkStore` behind a switch: while `down`, every write fails as a lost connection does."""

    def __init__(self, store: LinkStore) -> None:
        self.store = store
        self.down = False
        self.failed = 0

    def write(self, links, pages):
        if self.down:
            self.failed += 1
            raise AutoReconnect("connection refused")
        return self.store.write(links, pages)


def run_now(function, *args):
    return defer.maybeDeferred(function, *args)


def batches(count, size=5):
    """`count` batches of `size` distinct links each, plus one page per batch."""
    return [
        ([link_doc(anchor=f"a{n}-{i}", seen=T0) for i in range(size)], [page_doc(url=f"http://a.com/{n}", at=T0)])
        for n in range(count)
    ]


def writer_for(store, tmp_path, clock, **policy):
    outcome = {"written": 0, "spilled": 0}

    def written(links, pages, result):
        outcome["written"] += 1

    def spilled(links, pages):
        outcome["spilled"] += 1

    writer = SpillingWriter(
        store, tmp_path / "spill", SpillPolicy(**policy),
        on_written=written, on_spilled=spilled, clock=clock, run_in_thread=run_now,
    )  # fmt: skip
    return writer, outcome


def stored_ids(database):
    return {doc["_id"] for doc in database["links"].find()}, {doc["_id"] for doc in database["pages"].find()}


def test_an_outage_is_retried_then_spilled_within_a_bounded_buffer_and_replay_loses_nothing(mongo_db, tmp_path):
    """Injects: MongoDB refusing every write for 60 (clock) seconds mid-crawl, then coming back.

    Proves: writes are retried with growing delays (no batch is written while
    the store is down), the buffer never holds more than its bound, batches
    past it go to the spill journal, writing resumes by itself after the
    outage, and replaying the journal leaves every link and page stored
    exactly once (seen_count 1).
    """
    store = FlakyStore(LinkStore(mongo_db))
    clock = task.Clock()
    writer, outcome = writer_for(store, tmp_path, clock, retry_times=3, backoff=1, max_backoff=8, buffer_size=30)
    work = batches(60)
    most_buffered = 0
    for n, (links, pages) in enumerate(work):
        if n == 10:
            store.down = True
        if n == 40:
            store.down = False
        writer.submit(links, pages)
        most_buffered = max(most_buffered, writer.buffered)
        clock.advance(2)
    clock.advance(60)
    done = writer.close()
    assert done.called

    assert most_buffered <= 30
    assert store.failed >= 4 and writer.retries >= 3
    assert outcome["spilled"] > 0 and outcome["written"] > 10
    assert outcome["spilled"] + outcome["written"] == len(work)
    links_before, _ = stored_ids(mongo_db)
    result = replay(tmp_path / "spill", LinkStore(mongo_db))
    assert result.batches == outcome["spilled"] and result.truncated == 0
    links, pages = stored_ids(mongo_db)
    assert len(links_before) < len(links)
    assert links == {doc["_id"] for batch in work for doc in batch[0]}
    assert pages == {doc["_id"] for batch in work for doc in batch[1]}
    assert {doc["seen_count"] for doc in mongo_db["links"].find()} == {1}


def test_backoff_doubles_up_to_its_cap_and_a_success_resets_it(mongo_db, tmp_path):
    """Injects: a store down for five attempts. Proves: retries wait 1, 2, 4, 4 (clock) seconds, not a busy loop."""
    store = FlakyStore(LinkStore(mongo_db))
    store.down = True
    clock = task.Clock()
    writer, outcome = writer_for(store, tmp_path, clock, retry_times=20, backoff=1, max_backoff=4)
    [(links, pages)] = batches(1)
    writer.submit(links, pages)
    attempts = []
    for _ in range(12):
        attempts.append(store.failed)
        clock.advance(1)
    assert attempts == [1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5]
    store.down = False
    clock.advance(4)
    assert outcome == {"written": 1, "spilled": 0} and writer.failures == 0
    assert writer.close().called and writer.spill_paths == []


def test_closing_during_an_outage_spills_everything_at_once(mongo_db, tmp_path):
    """Injects: MongoDB down when the worker shuts down. Proves: close does not wait out retries, and spills all."""
    store = FlakyStore(LinkStore(mongo_db))
    store.down = True
    clock = task.Clock()
    writer, outcome = writer_for(store, tmp_path, clock, retry_times=100, backoff=30, buffer_size=1000)
    for links, pages in batches(5):
        writer.submit(links, pages)
    done = writer.close()
    assert done.called and clock.getDelayedCalls() == []
    assert outcome == {"written": 0, "spilled": 5}
    assert replay(tmp_path / "spill", LinkStore(mongo_db)).links == 25


def test_a_real_client_against_a_port_where_nothing_listens_spills_and_replays(mongo_db, tmp_path):
    """Injects: a real pymongo client whose server is gone (connection refused, server selection times out).

    Proves: pymongo's own errors take the retry-then-spill path, and the
    journal replays into a working database with every link.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = LinkStore(get_database(f"mongodb://127.0.0.1:{port}/", "gone", check=False, timeout_ms=50))
    clock = task.Clock()
    writer, outcome = writer_for(dead, tmp_path, clock, retry_times=1, backoff=0.1, write_timeout=0.2)
    work = batches(3)
    for links, pages in work:
        writer.submit(links, pages)
        clock.advance(0.2)
    assert writer.close().called
    assert outcome == {"written": 0, "spilled": 3}
    replay(tmp_path / "spill", LinkStore(mongo_db))
    assert stored_ids(mongo_db)[0] == {doc["_id"] for batch in work for doc in batch[0]}


def test_frontier_leases_are_released_only_once_their_batch_is_durable(mongo_db, tmp_path):
    """Injects: an outage long enough to spill one batch while another is written after recovery.

    Proves: a batch's frontier leases are handed back when its documents are
    in MongoDB or in the spill journal, never before (a worker killed while
    retrying leaves those pages leased, so they are fetched again), and every
    lease is handed back exactly once.
    """
    store = FlakyStore(LinkStore(mongo_db))
    store.down = True
    clock = task.Clock()
    released: list[str] = []
    writer = SpillingWriter(
        store, tmp_path / "spill", SpillPolicy(retry_times=2, backoff=1, max_backoff=1),
        on_written=lambda *_: None, on_spilled=lambda *_: None, on_durable=released.extend,
        clock=clock, run_in_thread=run_now,
    )  # fmt: skip
    first, second = batches(2)
    writer.submit(*first, ["lease-a", "lease-b"])
    writer.submit(*second, ["lease-c"])
    clock.advance(1)
    assert released == []  # still retrying: nothing durable yet
    clock.advance(1)
    assert released == ["lease-a", "lease-b"]  # retries exhausted: spilled to disk
    store.down = False
    clock.advance(1)
    assert released == ["lease-a", "lease-b", "lease-c"]  # written once MongoDB answered
    assert writer.close().called
    [spilled] = writer.spill_paths
    assert spilled.exists()


def unwritable(tmp_path):
    """A spill directory that cannot be created, even by root: its parent is a file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    return blocker / "spill"


def test_a_batch_that_cannot_be_spilled_stays_in_memory_with_its_leases_held(mongo_db, tmp_path, caplog):
    """Injects: MongoDB down and the spill directory unwritable, with batches past the buffer's bound.

    Proves: neither the retries-exhausted path nor the buffer-overflow path
    drops a batch or raises (a raise ended the pipeline's flush timer, and in
    `process_item` made Scrapy ack the page's lease); no lease is released
    while its batch is only in memory; once MongoDB is back every batch is
    written, in order, and every lease released once.
    """
    store = FlakyStore(LinkStore(mongo_db))
    store.down = True
    clock = task.Clock()
    released: list[str] = []
    writer = SpillingWriter(
        store, unwritable(tmp_path), SpillPolicy(retry_times=1, backoff=1, max_backoff=2, buffer_size=10),
        on_written=lambda *_: None, on_spilled=lambda *_: None, on_durable=released.extend,
        clock=clock, run_in_thread=run_now,
    )  # fmt: skip
    work = batches(4)  # 6 documents each: past the bound of 10 from the third on
    for n, (links, pages) in enumerate(work):
        writer.submit(links, pages, [f"lease-{n}"])
        clock.advance(1)
    clock.advance(10)
    assert released == [] and writer.spill_paths == []
    assert writer.buffered == 18  # three queued behind the one in flight, none dropped
    assert sum("cannot spill" in message for message in caplog.messages) == 1  # said once, not at every try

    store.down = False
    clock.advance(2)
    assert writer.close().called
    assert released == [f"lease-{n}" for n in range(4)]
    assert stored_ids(mongo_db)[0] == {doc["_id"] for batch in work for doc in batch[0]}
    assert writer.spill_paths == []


def test_closing_when_nothing_can_be_stored_or_spilled_leaves_the_leases_held(mongo_db, tmp_path):
    """Injects: a worker closing while MongoDB is down and the spill directory unwritable.

    Proves: close finishes (a worker must be able to stop) without releasing
    a lease, so those pages go back to the frontier when the leases expire.
    """
    store = FlakyStore(LinkStore(mongo_db))
    store.down = True
    clock = task.Clock()
    released: list[str] = []
    writer = SpillingWriter(
        store, unwritable(tmp_path), SpillPolicy(retry_times=5, backoff=1),
        on_written=lambda *_: None, on_spilled=lambda *_: None, on_durable=released.extend,
        clock=clock, run_in_thread=run_now,
    )  # fmt: skip
    for n, (links, pages) in enumerate(batches(3)):
        writer.submit(links, pages, [f"lease-{n}"])
    assert writer.close().called and clock.getDelayedCalls() == []
    assert released == []


def test_each_outage_gets_its_own_file_which_replay_takes_while_the_worker_runs(mongo_db, tmp_path):
    """Injects: two MongoDB outages in one writer's life, with `linkcrawler replay`'s loader run between them.

    Proves: the first write MongoDB takes after an outage closes that
    outage's journal file, so a replay loads it while the worker goes on;
    the next outage spills to a new file, replayed once closed; nothing is
    applied twice.
    """
    store = FlakyStore(LinkStore(mongo_db))
    clock = task.Clock()
    writer, outcome = writer_for(store, tmp_path, clock, retry_times=0, backoff=1)
    first, second, third, fourth = batches(4)
    store.down = True
    writer.submit(*first)
    store.down = False
    writer.submit(*second)
    assert replay(tmp_path / "spill", LinkStore(mongo_db)).batches == 1
    store.down = True
    writer.submit(*third)
    store.down = False
    writer.submit(*fourth)
    assert writer.close().called
    assert outcome == {"written": 2, "spilled": 2} and len(set(writer.spill_paths)) == 2
    result = replay(tmp_path / "spill", LinkStore(mongo_db))
    assert (result.files, result.batches, result.in_use) == (1, 1, 0)
    assert {doc["seen_count"] for doc in mongo_db["links"].find()} == {1}
    assert len(stored_ids(mongo_db)[0]) == 20
