"""Fault: `linkcrawler replay` run on a journal directory while worker processes still write to it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.local.demo import EMULATED_MONGO_URI
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth, identity
from tests.conftest import local_crawl
from tests.crawlfaults import finish, leased, page_hits, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def test_replay_while_a_worker_writes_takes_only_closed_files_and_loses_nothing(redis_url, redis_client):
    """Injects: two workers journaling to one directory; a third into the crawl one is SIGKILLed (its file
    closed, perhaps mid-line) and `linkcrawler replay` runs while the other goes on appending to its file.

    Proves: replay takes the dead worker's file and leaves the live worker's alone (it used to rename that
    one to `.replayed` under the worker, whose later batches were then never replayed, and report its
    half-written last line as cut short by a killed worker); after the crawl, a second replay loads the
    rest: every fetchable page and every link of the ground truth is stored, and no file is left behind.
    """
    web = generate_web(seed=12, sites=20, pages_per_site=20)
    with local_crawl(redis_url, "linkcrawler_replay") as crawl, WebServer(web, delay=0.05) as server:
        journal = crawl.workdir / "journal"
        settings = {"MONGO_URI": f"journal://{journal}", "LEASE_SECONDS": 2, "STORE_FLUSH_SECONDS": 0.2}
        replay = ["replay", str(journal), "--mongo-uri", crawl.mongo_uri or EMULATED_MONGO_URI]
        replay += ["--database", crawl.database]
        expected = fetchable_pages(server.web)
        crawl.seed(server.seeds)
        victim, survivor = workers = crawl.start_workers(2, server.hosts, settings)
        try:
            wait_for(lambda: len(page_hits(server.hits())) >= len(expected) // 3, 120, "a third of the crawl")
            victim.process.kill()
            victim.process.wait()
            during = CliRunner().invoke(app, replay)
            hits_at_replay = len(page_hits(server.hits()))
            wait_for(lambda: not survivor.running(), 120, "the survivor to close by itself")
        finally:
            codes = finish(crawl, workers, timeout=10)
        hits = page_hits(server.hits())
        stored_pages = {doc["_id"] for doc in crawl.store.pages.find()}
        stored_links = {identity(doc) for doc in crawl.store.links.find()}
        unreplayed = sorted(path.name for path in journal.glob("*.jsonl"))

    assert codes == [-9, 0], survivor.log_tail()
    assert set(hits) == expected and len(expected) > hits_at_replay  # the survivor crawled on after the replay
    assert sorted(expected - stored_pages)[:10] == []
    assert sorted({identity(link) for link in ground_truth(server.web)} - stored_links)[:10] == []
    assert unreplayed == [] and leased(crawl) == 0
    assert during.exit_code == 0, during.output
    assert "from 1 file(s)" in during.output and "left 1 file(s) a running worker is still writing" in during.output
