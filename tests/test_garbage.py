"""The worker's cycle collector: start-up's objects frozen and fewer young collections, garbage cycles still freed."""

from __future__ import annotations

import gc
import weakref

import pytest
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from linkcrawler.garbage import CollectorTuning


@pytest.fixture
def collector():
    """Python's collector as the test found it, put back afterwards: the test process shares it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Cycle:
    def __init__(self) -> None:
        self.me = self


def open_spider(settings: dict) -> None:
    """What Scrapy does for the extension when a worker opens its spider."""
    crawler = get_crawler(Spider, settings)
    tuning = CollectorTuning.from_crawler(crawler)
    tuning.spider_opened(Spider("probe"))


def test_an_opened_worker_freezes_its_start_up_and_collects_young_objects_less_often(collector):
    gc.unfreeze()
    open_spider({"GC_THRESHOLD": "5000"})

    assert gc.get_threshold()[0] == 5000
    assert gc.get_freeze_count() > 0


def test_garbage_cycles_made_after_opening_are_still_freed_without_an_explicit_collection(collector):
    open_spider({"GC_THRESHOLD": "5000"})
    freed = []
    cycle = Cycle()
    weakref.finalize(cycle, freed.append, True)
    del cycle

    allocations = [[] for _ in range(20_000)]  # past the threshold: a young collection runs on its own

    assert freed == [True]
    assert len(allocations) == 20_000


def test_a_threshold_of_zero_leaves_the_collector_as_python_has_it(collector):
    before = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(NotConfigured):
        CollectorTuning.from_crawler(get_crawler(Spider, {"GC_THRESHOLD": 0}))
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
