"""The other projects' private APIs linkcrawler relies on are still there (see `linkcrawler.internals`).

Each test fails with one line naming the upstream change, so an upgrade of
Scrapy, scrapy-redis or mongomock breaks here first, not in a crawl.
"""

from __future__ import annotations

import inspect

import mongomock
import pytest
from mongomock.aggregate import _Parser
from mongomock.collection import BulkOperationBuilder, Collection
from scrapy import Request, Spider
from scrapy.core.engine import ExecutionEngine, _Slot
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from linkcrawler.internals import mongomock_private, scrapy_private


class Probe(Spider):
    name = "probe"


def moved(what: str, user: str) -> str:
    return f"upstream changed {what}, which {user} relies on: adapt linkcrawler/internals/ before upgrading"


def test_scrapy_engine_still_has_a_slot_with_a_nextcall():
    engine_source = inspect.getsource(ExecutionEngine)
    slot_arguments = inspect.signature(_Slot.__init__).parameters
    if "self._slot" not in engine_source or "nextcall" not in slot_arguments:
        pytest.fail(moved("Scrapy's ExecutionEngine._slot.nextcall", "scrapy_private.wake_engine"))


def test_waking_an_engine_schedules_its_next_call():
    calls = []

    class NextCall:
        def schedule(self) -> None:
            calls.append("scheduled")

    class Engine:
        _slot = type("Slot", (), {"nextcall": NextCall()})()

    assert scrapy_private.wake_engine(Engine()) is True and calls == ["scheduled"]
    assert scrapy_private.wake_engine(object()) is False


def test_scrapy_robots_middleware_still_keeps_parsers_and_user_agents():
    crawler = get_crawler(Probe, {"ROBOTSTXT_OBEY": True, "USER_AGENT": "probe-agent"})
    middleware = RobotsTxtMiddleware.from_crawler(crawler)
    if not isinstance(getattr(middleware, "_parsers", None), dict):
        pytest.fail(moved("RobotsTxtMiddleware._parsers", "scrapy_private.pending_robots_parser"))
    if not hasattr(middleware, "_robotstxt_useragent") or not hasattr(middleware, "_default_useragent"):
        pytest.fail(moved("RobotsTxtMiddleware's user agent attributes", "scrapy_private.robots_user_agent"))
    assert scrapy_private.pending_robots_parser(middleware, "example.com") is None
    assert scrapy_private.robots_user_agent(middleware, Request("https://example.com/")) == b"probe-agent"


def test_the_stats_collector_keeps_scrapys_methods_and_stats():
    """Scrapy's own collector wraps its methods at each access; ours keeps every method and value it has."""
    if "__getattribute__" not in vars(MemoryStatsCollector.__mro__[1]):
        pytest.fail(moved("StatsCollector.__getattribute__ (gone: drop ours)", "scrapy_private.StatsCollector"))
    stats = scrapy_private.StatsCollector(get_crawler(Probe))
    stats.inc_value("pages")
    stats.inc_value("pages", 2)
    stats.max_value("depth", 3)
    stats.max_value("depth", 1)
    stats.set_value("reason", "finished")
    assert stats.get_stats() == {"pages": 3, "depth": 3, "reason": "finished"}
    assert stats.get_value("missing", 0) == 0


def test_mongomock_still_stores_documents_by_key_and_scans_them_in_one_place():
    collection = mongomock.MongoClient().db.probe
    collection.insert_one({"_id": "a", "n": 1})
    if "filter" not in inspect.signature(Collection._iter_documents).parameters:
        pytest.fail(moved("mongomock's Collection._iter_documents(filter)", "mongomock_private"))
    if "a" not in getattr(collection, "_store", ()):
        pytest.fail(moved("mongomock's Collection._store", "mongomock_private"))
    if "upsert" not in inspect.signature(BulkOperationBuilder.add_update).parameters:
        pytest.fail(moved("mongomock's BulkOperationBuilder.add_update", "mongomock_private"))
    if list(inspect.signature(_Parser.__init__).parameters)[1:3] != ["doc_dict", "user_vars"]:
        pytest.fail(moved("mongomock's aggregate._Parser(doc_dict, user_vars)", "mongomock_private"))


def test_the_patched_emulation_answers_as_before():
    mongomock_private.patch()
    collection = mongomock.MongoClient().db.patched
    collection.insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}])
    assert collection.find_one({"_id": "b"}) == {"_id": "b", "n": 2}
    assert collection.find_one({"_id": "c"}) is None
    assert [d["_id"] for d in collection.find({"n": {"$gte": 1}})] == ["a", "b"]
    collection.update_one({"_id": "a"}, [{"$set": {"at": "$$NOW"}}])
    stamped = collection.find_one({"_id": "a"})["at"]
    assert stamped.microsecond % 1000 == 0  # the server's clock, to the millisecond as BSON keeps it
