"""The item pipelines through their Scrapy entry points: documents out, stats counted, batches flushed."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from scrapy import Spider
from scrapy.utils.test import get_crawler
from twisted.internet import task

from linkcrawler import config
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.links import Link
from linkcrawler.extract.page import Extractor
from linkcrawler.store.documents import PageRecords
from pipelines.normalize import NormalizePipeline
from pipelines.store import StorePipeline

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def page(url="http://a.com/p", links=(), **fields):
    return PageItem(url=url, fetched_at=NOW, status=200, ip="127.77.1.9", links=list(links), **fields)


def link(target, domain, **flags):
    return Link(target, target.split("/")[2], domain, "anchor", "text", **flags)


def crawler(**settings):
    c = get_crawler(Spider, settings)
    c.stats.open_spider()
    return c


def test_only_external_links_become_documents_and_skips_are_counted():
    c = crawler()
    item = page(
        links=[link("http://b.com/", "b.com"), link("http://www.a.com/x", "a.com")],
        skipped=Counter({"scheme": 3, "too_long": 1}),
    )
    records = NormalizePipeline.from_crawler(c).process_item(item)
    assert [doc["target_url"] for doc in records.links] == ["http://b.com/"]
    assert records.links[0]["source_subnet"] == "127.77.1.0/24"
    assert [doc["_id"] for doc in records.pages] == ["http://a.com/p"]
    assert records.pages[0]["external_outlinks"] == 1 and records.pages[0]["outlinks"] == 2
    stats = c.stats.get_stats()
    assert stats["linkcrawler/skipped/scheme"] == 3 and stats["linkcrawler/skipped/too_long"] == 1
    assert (stats["linkcrawler/links/found"], stats["linkcrawler/links/stored"]) == (2, 1)


def test_internal_links_are_stored_on_request():
    c = crawler(STORE_INTERNAL_LINKS=True)
    records = NormalizePipeline.from_crawler(c).process_item(page(links=[link("http://www.a.com/x", "a.com")]))
    assert [(doc["target_url"], doc["internal"]) for doc in records.links] == [("http://www.a.com/x", True)]


def test_store_flushes_by_batch_size_and_on_close(tmp_path):
    c = crawler(MONGO_URI=f"journal://{tmp_path}", STORE_BATCH_SIZE=2, STORE_FLUSH_SECONDS=0)
    store = StorePipeline.from_crawler(c)
    docs = [{"_id": str(n)} for n in range(3)]
    store.process_item(PageRecords(links=docs[:1], pages=[]))
    assert c.stats.get_value("linkcrawler/store/batches") is None
    store.process_item(PageRecords(links=docs[1:], pages=[]))
    assert c.stats.get_value("linkcrawler/store/batches") == 1
    store.process_item(PageRecords(links=[], pages=[{"_id": "http://a.com/"}]))
    asyncio.run(store.close_spider())
    assert c.stats.get_value("linkcrawler/store/batches") == 2
    [journal] = tmp_path.glob("*.jsonl")
    assert len(journal.read_text().splitlines()) == 2


def test_a_batch_is_written_at_most_the_flush_time_after_its_first_page(tmp_path):
    """The time limit runs from a batch's first page: a flush by size does not leave a timer to cut the next
    batch short, and an idle pipeline schedules nothing."""
    c = crawler(MONGO_URI=f"journal://{tmp_path}")
    clock = task.Clock()
    store = StorePipeline(StorePipeline.from_crawler(c).sink, c.stats, batch_size=2, flush_seconds=5, clock=clock)
    clock.advance(30)
    assert not clock.getDelayedCalls()
    store.process_item(PageRecords(links=[{"_id": "1"}], pages=[]))
    clock.advance(3)
    store.process_item(PageRecords(links=[{"_id": "2"}], pages=[]))
    assert c.stats.get_value("linkcrawler/store/batches") == 1
    store.process_item(PageRecords(links=[{"_id": "3"}], pages=[]))
    clock.advance(4)
    assert c.stats.get_value("linkcrawler/store/batches") == 1, "flushed 4 s after the last flush"
    clock.advance(1)
    assert c.stats.get_value("linkcrawler/store/batches") == 2
    assert not clock.getDelayedCalls()
    asyncio.run(store.close_spider())
    assert not clock.getDelayedCalls()


def test_a_page_of_300000_links_gives_at_most_max_links_per_page_and_records_the_rest():
    """A 9 MB link farm, under every size limit: the links read stop at the bound, the overflow is on record."""
    html = "<body>" + "".join(f'<a href="https://d{i % 5000}.ex/{i}">l{i}</a>' for i in range(300_000)) + "</body>"
    assert 8_000_000 < len(html) < config.default("MAX_DOCUMENT_LENGTH")
    c = crawler(MAX_LINKS_PER_PAGE=1000)
    extracted = Extractor.from_settings(c.settings).extract(html, "http://a.com/farm")
    assert len(extracted.links) == 1000
    assert extracted.skipped == Counter({"over_link_limit": 299_000})

    item = page(url=extracted.url, links=extracted.links, skipped=extracted.skipped)
    records = NormalizePipeline.from_crawler(c).process_item(item)
    assert len(records.links) == 1000 and records.pages[0]["links_over_limit"] == 299_000
    assert c.stats.get_value("linkcrawler/skipped/over_link_limit") == 299_000
    assert Extractor().max_links == config.default("MAX_LINKS_PER_PAGE") == 20_000
