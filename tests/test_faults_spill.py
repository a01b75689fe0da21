"""Fault: MongoDB unreachable while the spill directory cannot be written, with a real worker process."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth, identity
from linkcrawler.store.journal import batches, replay
from tests import storeswitch
from tests.conftest import local_crawl
from tests.crawlfaults import finish, leased, leases_of, log_report, page_hits, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def test_a_store_outage_with_an_unwritable_spill_directory_loses_no_page(redis_url, redis_client, tmp_path):
    """Injects: a quarter into the crawl, the worker's store starts failing as an unreachable MongoDB does, and
    its spill directory is replaced by a file; the crawl goes on for another quarter of the web, then the store
    comes back. Retries run out quickly and the buffer is small, so both the retries-exhausted and the
    buffer-overflow paths try to spill, and fail.

    Proves: no batch is dropped and no lease released while its records are only in memory (every page
    fetched during the outage is still leased); nothing raises (no "Unhandled error in Deferred", the
    flush timer keeps going); once the store is back every batch lands by itself, the worker closes by
    itself, and every fetchable page and every link of the ground truth is stored.
    """
    down, spill, spilled_before = tmp_path / "store-down", tmp_path / "spill", tmp_path / "spilled-before"
    web = generate_web(seed=11, sites=20, pages_per_site=20)
    with local_crawl(redis_url, "linkcrawler_spill") as crawl, WebServer(web, delay=0.05) as server:
        settings = {
            "ITEM_PIPELINES": storeswitch.pipelines(),
            "STORE_SWITCH_DOWN": down,
            "STORE_SWITCH_JOURNAL": crawl.workdir / "journal",
            "STORE_SPILL_DIR": spill,
            "STORE_RETRY_TIMES": 1,
            "STORE_RETRY_BACKOFF": 0.1,
            "STORE_RETRY_BACKOFF_MAX": 0.5,
            "STORE_BATCH_SIZE": 20,
            "STORE_BUFFER_SIZE": 30,
            "STORE_FLUSH_SECONDS": 0.3,
            "CONCURRENT_REQUESTS": 8,
            "LEASE_SECONDS": 5,
        }
        expected = fetchable_pages(server.web)
        crawl.seed(server.seeds)
        [worker] = crawl.start_workers(1, server.hosts, settings)
        try:
            wait_for(lambda: len(page_hits(server.hits())) >= len(expected) // 4, 120, "a quarter of the crawl")
            wait_for(lambda: not open_journals(spill), 60, "the store to catch up with what it spilled")
            down.touch()
            if spill.exists():  # batches past the small buffer while the store was up: kept for the end
                spill.rename(spilled_before)
            spill.write_text("no longer a directory")
            before = set(page_hits(server.hits()))
            wait_for(lambda: len(set(page_hits(server.hits())) - before) >= len(expected) // 4, 120, "another quarter")
            fetched_in_outage = set(page_hits(server.hits())) - before
            held = leases_of(crawl, worker)
            # A journal the worker opened before the outage stays open (renamed with its directory) until the
            # store catches up, and takes batches meanwhile: those pages are on disk, their leases rightly gone.
            on_disk = spilled_pages(spilled_before)
            down.unlink()
            wait_for(lambda: not worker.running(), 120, "the worker to close by itself")
        finally:
            codes = finish(crawl, [worker], timeout=10)
        if spilled_before.exists():
            replay(spilled_before, crawl.store)
        hits = page_hits(server.hits())
        log = worker.log_path.read_text(errors="replace")
        stored_pages = {doc["_id"] for doc in crawl.store.pages.find()}
        stored_links = {identity(doc) for doc in crawl.store.links.find()}
        still_leased = leased(crawl)

    assert held >= len(fetched_in_outage - on_disk) > 0
    assert codes == [0], log_report(log)
    assert "store write failed 2 time(s)" in log and "cannot spill" in log  # retries ran out, spilling failed
    assert "Unhandled error" not in log and "Traceback" not in log
    assert set(hits) == expected
    assert sorted(expected - stored_pages)[:10] == []
    assert sorted({identity(link) for link in ground_truth(server.web)} - stored_links)[:10] == []
    assert still_leased == 0
    assert spill.is_file()  # nothing was spilled anywhere during the outage


def open_journals(directory: Path) -> list[Path]:
    """Journal files in `directory` their writer still holds (locked)."""
    held = []
    for path in sorted(directory.glob("*.jsonl")) if directory.exists() else []:
        with path.open("rb") as journal:
            try:
                fcntl.flock(journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(path)
    return held


def spilled_pages(directory: Path) -> set[str]:
    """URLs of the pages in the complete batches of the journal files in `directory`."""
    files = sorted(directory.glob("*.jsonl")) if directory.exists() else []
    return {page["_id"] for path in files for _, pages in batches(path) for page in pages}
