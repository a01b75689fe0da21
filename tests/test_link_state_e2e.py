"""Each link's state after two crawl runs with real workers, faults, and batches applied out of order.

Two workers crawl version 1 of a synthetic web, then version 2 (links
added, removed, pages gone, redirected, unindexed). Each `links` document's
state is checked against the state computed here from the generator's model
(`link_changes`, `status_of`), never read from the links collection, and
against the documents of applying the same batches once, in order.

- `crawled`: one worker SIGKILLed mid-run 2. The workers journal every batch
  (`journal://`), so the test holds the batch stream they produced and
  applies it itself: in reverse order with repeats, and regrouped so that a
  batch holds several fetches of a page.
- `cut`: the workers' writes go to `tests.cutstore`, which cuts them
  midway: an outage in run 1 (every write cut after 0 to 3 of its round
  trips, retried, then spilled; the spill loaded with `linkcrawler replay`
  after run 2), and two workers killed in run 2 in the middle of a write.
  The cut writes are real partial writes of `LinkStore.write`, made by the
  test on its database from the workers' records (see `tests.cutstore`).

Runs on mongomock, or on the real MongoDB given by LINKCRAWLER_TEST_MONGO_URI.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.local.demo import LocalCrawl
from linkcrawler.local.synthweb import (
    WebServer,
    fetchable_pages,
    generate_web,
    ground_truth,
    identity,
    link_changes,
    mutate,
    status_of,
)
from linkcrawler.local.workers import WorkerProcess
from linkcrawler.store.journal import batches
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database
from tests import cutstore
from tests.conftest import REAL_MONGO_URI, local_crawl
from tests.crawlfaults import finish, leases_of, page_hits, wait_for
from tests.test_link_state import as_utc, documents

pytestmark = [pytest.mark.slow, pytest.mark.faults]

Batch = tuple[list[dict[str, Any]], list[dict[str, Any]]]
STATE = ("live", "lost_at", "lost_reason", "broken", "target_status")


def scratch_uri(database: str) -> str:
    return REAL_MONGO_URI or f"mongomock://state-{database}"


@contextmanager
def scratch_store() -> Iterator[LinkStore]:
    """A database of its own on the MongoDB under test, dropped however the test ends."""
    name = f"linkcrawler_state_{uuid.uuid4().hex[:8]}"
    database = get_database(scratch_uri(name), name)
    store = LinkStore(database)
    store.ensure_indexes()
    try:
        yield store
    finally:
        database.client.drop_database(name)


def crawl_run(crawl: LocalCrawl, server: WebServer, settings: dict[str, Any],
              during: Callable[[list[WorkerProcess]], None] | None = None) -> list[int | None]:  # fmt: skip
    """One crawl run by two workers; `during(workers)` acts while they crawl (and may start more); exit codes."""
    crawl.seed(server.seeds, new_run=True)
    workers = crawl.start_workers(2, server.hosts, settings)
    try:
        if during is not None:
            during(workers)
    finally:
        codes = finish(crawl, workers, timeout=180)
    return codes


def kill_mid_crawl(crawl: LocalCrawl, server: WebServer) -> Callable[[list[WorkerProcess]], None]:
    """SIGKILL the first worker a third into the run, while it holds leased requests."""
    pages = len(fetchable_pages(server.web))

    def kill(workers: list[WorkerProcess]) -> None:
        victim = workers[0]
        wait_for(lambda: len(page_hits(server.hits())) >= pages // 3, 120, "a third of run 2")
        wait_for(lambda: leases_of(crawl, victim) > 0, 60, "the victim to hold leases")
        victim.process.kill()
        victim.process.wait()

    return kill


def journal_files(crawl: LocalCrawl) -> dict[str, Path]:
    """The workers' journal files by name, replayed (as `finish` leaves them) or not."""
    return {p.stem: p for p in (crawl.workdir / "journal").iterdir() if p.suffix in (".jsonl", ".replayed")}


def replayed_batches(directory: Path) -> list[Batch]:
    """The batches `linkcrawler replay` took from a directory."""
    return stream(sorted(directory.glob("*.replayed")))


def stream(paths: list[Path]) -> list[Batch]:
    """Every complete batch of the files, file by file, in the order written."""
    return [batch for path in paths for batch in batches(path)]


def reversed_with_repeats(stream: list[Batch]) -> Iterator[Batch]:
    """The stream newest first; every fourth batch twice in a row, every fifth again after all the others."""
    backwards = stream[::-1]
    for n, batch in enumerate(backwards):
        yield batch
        if n % 4 == 0:
            yield batch
    yield from backwards[::5]


def by_source_page(stream: list[Batch]) -> Iterator[Batch]:
    """One batch per page holding every fetch of it (both runs, refetches) and their links, newest page first."""
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for batch_links, batch_pages in stream:
        for link in batch_links:
            links[link["source_url"]].append(link)
        for page in batch_pages:
            pages[page["_id"]].append(page)
    for url in sorted(pages.keys() | links.keys(), reverse=True):
        yield links[url], pages[url]


def applied(stream: Iterator[Batch]) -> dict[str, list[dict[str, Any]]]:
    with scratch_store() as store:
        for links, pages in stream:
            store.write(links, pages)
        return documents(store)


@pytest.fixture(scope="module")
def crawled(redis_url):
    """The two runs' batch streams, the webs served, the workers' exit codes and the documents of three replays."""
    web = generate_web(seed=8, sites=16, pages_per_site=8)
    redis = connect_redis(redis_url)
    redis.flushdb()
    with WebServer(web, delay=0.05) as server, local_crawl(redis_url, "linkcrawler_state") as crawl:
        try:
            settings = {
                "MONGO_URI": f"journal://{crawl.workdir / 'journal'}",
                "CONCURRENT_REQUESTS": 8,
                "LEASE_SECONDS": 2,
                "WORKER_HEARTBEAT_SECONDS": 0.5,
                "STORE_FLUSH_SECONDS": 0.3,
                "STORE_BATCH_SIZE": 40,
            }
            first_codes = crawl_run(crawl, server, settings)
            first_files = journal_files(crawl)
            v1 = server.web
            server.set_version(2)
            second_codes = crawl_run(crawl, server, settings, kill_mid_crawl(crawl, server))
            second_files = {name: path for name, path in journal_files(crawl).items() if name not in first_files}
            first, second = stream(sorted(first_files.values())), stream(sorted(second_files.values()))
            yield {
                "v1": v1,
                "v2": server.web,
                "codes": (first_codes, second_codes),
                "first": first,
                "second": second,
                "in_order": documents(crawl.store),
                "reversed": applied(reversed_with_repeats(first + second)),
                "by_page": applied(by_source_page(first + second)),
            }
        finally:
            redis.flushdb()


def expected_state(v1, v2, second: list[Batch]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """Each link's state from the model: lost as `link_changes` says, `lost_at` the first run-2 fetch of its
    page, its target's status as version 2 answers it (None when robots.txt keeps it unfetched)."""
    lost = {identity(link): link["reason"] for link in link_changes(v1, v2)["removed"]}
    refetched: dict[str, Any] = {}
    for _, pages in second:
        for page in pages:
            refetched[page["_id"]] = min(refetched.get(page["_id"], page["fetched_at"]), page["fetched_at"])
    fetched = fetchable_pages(v2)
    expected = {}
    for key in {identity(link) for link in ground_truth(v1) + ground_truth(v2)}:
        status = status_of(v2, key[1]) if key[1] in fetched else None
        expected[key] = {
            "live": key not in lost,
            "lost_at": refetched[key[0]] if key in lost else None,
            "lost_reason": lost.get(key),
            "broken": (status or 0) >= 400,
            "target_status": status,
        }
    return expected


def stored_state(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    return {identity(doc): {**{k: doc[k] for k in STATE}, "lost_at": as_utc(doc["lost_at"])} for doc in docs}


def test_a_worker_was_killed_mid_run_and_the_web_changed_every_way(crawled):
    first_codes, second_codes = crawled["codes"]
    assert first_codes == [0, 0]
    assert second_codes == [-9, 0]
    assert len(crawled["first"]) >= 5 and len(crawled["second"]) >= 5
    reasons = {link["reason"] for link in link_changes(crawled["v1"], crawled["v2"])["removed"]}
    assert reasons == {"link_removed", "source_failed", "source_redirected", "source_noindex", "source_canonicalized"}


def test_every_link_state_equals_the_truth_after_a_reverse_replay_with_repeats(crawled):
    """Injects: both runs' journal batches applied newest first, some twice in a row, some again at the end.

    Proves: every link is live or lost (with the reason and the fetch that first found it lost), broken or not,
    with its target's status, exactly as the model says.
    """
    expected = expected_state(crawled["v1"], crawled["v2"], crawled["second"])
    stored = stored_state(crawled["reversed"]["links"])
    assert sorted(stored) == sorted(expected)
    wrong = {key: (stored[key], want) for key, want in expected.items() if stored[key] != want}
    assert list(wrong.items())[:5] == []
    assert any(not s["live"] for s in stored.values()) and any(s["broken"] for s in stored.values())


def test_a_reverse_replay_with_repeats_gives_the_documents_of_an_in_order_replay(crawled):
    assert crawled["reversed"] == crawled["in_order"]


def test_batches_holding_every_fetch_of_a_page_give_the_documents_of_an_in_order_replay(crawled):
    assert max(len(pages) for _, pages in by_source_page(crawled["first"] + crawled["second"])) >= 2
    assert crawled["by_page"] == crawled["in_order"]


def turned_pages(v1, v2) -> set[str]:
    """Pages that version 2 fails, redirects or makes unindexable: their two fetches disagree on their links."""
    return {link["source_url"] for link in link_changes(v1, v2)["removed"] if link["reason"] != "link_removed"}


def cut_pages(records: Iterable[dict[str, Any]]) -> set[str]:
    """Pages of the writes cut midway."""
    return {page["_id"] for record in records if record["cut"] is not None for page in record["pages"]}


def outage(server: WebServer, control: Path) -> Callable[[list[WorkerProcess]], None]:
    """A tenth into the run, MongoDB drops every write midway (each retried, then spilled) until writes were cut at
    each of their round trips and a dozen pages were in cut writes, two of them pages that version 2 fails,
    redirects or unindexes: their spilled run-1 fetches land after run 2's."""
    pages, changed = len(fetchable_pages(server.web)), turned_pages(server.web, mutate(server.web))

    def cut() -> bool:
        records = list(cutstore.records(control))
        urls = cut_pages(records)
        cuts = {record["cut"] for record in records}
        return cuts >= set(range(cutstore.ROUND_TRIPS)) and len(urls) >= 12 and len(urls & changed) >= 2

    def faults(workers: list[WorkerProcess]) -> None:
        wait_for(lambda: len(page_hits(server.hits())) >= pages // 10, 120, "a tenth of run 1")
        (control / "down").touch()
        wait_for(cut, 60, "writes of turned pages cut")
        (control / "down").unlink()

    return faults


def kills(
    crawl: LocalCrawl, server: WebServer, control: Path, settings: dict[str, Any]
) -> Callable[[list[WorkerProcess]], None]:
    """One worker killed after its write's pages and links round trips, the other after its pages round trip
    (half its links written); two take over."""

    def faults(workers: list[WorkerProcess]) -> None:
        for dead, round_trips in enumerate((2, 1), start=1):
            (control / "die.new").write_text(str(round_trips))
            (control / "die.new").rename(control / "die")
            wait_for(lambda n=dead: sum(not w.running() for w in workers) >= n, 60, "a worker killed mid-batch")
        workers += crawl.start_workers(2, server.hosts, settings)

    return faults


def batch_key(record: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((page["_id"], page["fetched_at"]) for page in record["pages"])


def once_in_order(records: list[dict[str, Any]]) -> Iterator[Batch]:
    """Each batch written whole, once, where it was first tried."""
    seen = set()
    for record in records:
        if batch_key(record) not in seen:
            seen.add(batch_key(record))
            yield record["links"], record["pages"]


@pytest.fixture(scope="module")
def cut(redis_url):
    """Two runs whose writes were recorded, with writes cut midway: by an outage in run 1, by workers killed in
    run 2. The records, the batches spilled in the outage, the documents after applying the records as made then
    `linkcrawler replay` of the spill (after run 2's batches), and after applying each batch once, in order."""
    web = generate_web(seed=8, sites=16, pages_per_site=8)
    redis = connect_redis(redis_url)
    redis.flushdb()
    with WebServer(web, delay=0.05) as server, local_crawl(redis_url, "linkcrawler_cut") as crawl:
        try:
            spill = crawl.workdir / "spill"
            controls = [crawl.workdir / "run-1", crawl.workdir / "run-2"]
            for control in controls:
                control.mkdir()
            settings = {
                "ITEM_PIPELINES": cutstore.pipelines(),
                "STORE_SPILL_DIR": spill,
                "STORE_RETRY_TIMES": 1,
                "STORE_RETRY_BACKOFF": 0.1,
                "STORE_RETRY_BACKOFF_MAX": 0.2,
                "CONCURRENT_REQUESTS": 8,
                "LEASE_SECONDS": 2,
                "WORKER_HEARTBEAT_SECONDS": 0.5,
                "STORE_FLUSH_SECONDS": 0.3,
                "STORE_BATCH_SIZE": 20,
            }
            run_1, run_2 = ({**settings, "CUT_STORE_DIR": control} for control in controls)
            first_codes = crawl_run(crawl, server, run_1, outage(server, controls[0]))
            v1 = server.web
            server.set_version(2)
            second_codes = crawl_run(crawl, server, run_2, kills(crawl, server, controls[1], run_2))
            first, second = (list(cutstore.records(control)) for control in controls)
            records = first + second
            with scratch_store() as store:
                for record in records:
                    cutstore.apply(record, store.db)
                replay = ["replay", str(spill), "--mongo-uri", scratch_uri(store.db.name), "--database", store.db.name]
                replayed = CliRunner().invoke(app, replay)
                as_made = documents(store)
            yield {
                "v1": v1,
                "v2": server.web,
                "codes": (first_codes, second_codes),
                "first": first,
                "second": second,
                "spilled": [{"links": links, "pages": pages, "cut": None} for links, pages in replayed_batches(spill)],
                "replayed": replayed,
                "as_made": as_made,
                "in_order": applied(once_in_order(records)),
            }
        finally:
            redis.flushdb()


def unlanded(records: list[dict[str, Any]], spilled: list[dict[str, Any]]) -> dict[tuple[Any, ...], int]:
    """Batches whose writes were all cut and that were not spilled either, with the round trips of their last."""
    landed = {batch_key(record) for record in records + spilled if record["cut"] is None}
    return {batch_key(record): record["cut"] for record in records if batch_key(record) not in landed}


def test_an_outage_in_run_1_cut_writes_at_every_round_trip_and_spilled_them_for_replay(cut):
    assert cut["codes"][0] == [0, 0]
    assert cut["replayed"].exit_code == 0, cut["replayed"].output
    assert f"replayed {len(cut['spilled'])} batch(es)" in cut["replayed"].output
    assert {record["cut"] for record in cut["first"]} == {None, 0, 1, 2, 3}
    assert len(cut_pages(cut["first"]) & turned_pages(cut["v1"], cut["v2"])) >= 2
    assert unlanded(cut["first"], cut["spilled"]) == {}


def test_two_workers_were_killed_in_run_2_in_the_middle_of_a_write(cut):
    assert cut["codes"][1] == [-9, -9, 0, 0]
    assert sorted(unlanded(cut["second"], cut["spilled"]).values()) == [1, 2]


def test_every_link_state_after_cut_writes_equals_the_truth(cut):
    """Injects: writes cut after each of their round trips (half of the cut bulk applied), retried, spilled and
    replayed after the next run; a worker killed after its pages and links writes, one after its pages write.

    Proves: every link's state is the model's, as after clean writes.
    """
    second = [(record["links"], record["pages"]) for record in cut["second"]]
    expected = expected_state(cut["v1"], cut["v2"], second)
    stored = stored_state(cut["as_made"]["links"])
    assert sorted(stored) == sorted(expected)
    wrong = {key: (stored[key], want) for key, want in expected.items() if stored[key] != want}
    assert list(wrong.items())[:5] == []


def test_every_link_state_after_cut_writes_equals_a_once_only_in_order_application(cut):
    assert stored_state(cut["as_made"]["links"]) == stored_state(cut["in_order"]["links"])


def test_every_document_but_the_links_a_killed_write_never_made_equals_a_once_only_in_order_application(cut):
    """No count doubles under cut and retried writes: `seen_count` and `fetch_count` as if each batch were written
    once. The links the write killed after its pages round trip did not make have one observation fewer."""
    killed = unlanded(cut["second"], cut["spilled"])
    never_made = {url for key, round_trips in killed.items() if round_trips < 2 for url, _ in key}

    def made(documents: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        return {**documents, "links": [doc for doc in documents["links"] if doc["source_url"] not in never_made]}

    assert never_made
    assert made(cut["as_made"]) == made(cut["in_order"])
