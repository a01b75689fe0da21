"""Python's cycle collector, tuned for a worker: fewer young collections, and none over what start-up built.

CPython runs a young-generation collection every 700 net container
allocations. A worker allocates thousands a page (each link a record, its
tuples and dicts) that reference counting frees anyway, and every collection
walks those still alive: on the bench web (`bench/crawl.py`) collections
took about a tenth of a worker's CPU, against 3% of the floor's (Scrapy
fetching pages and parsing none). Here the
threshold is `GC_THRESHOLD` allocations instead, and when the spider opens
everything built so far (modules, settings, the components) is moved out of
the collector's sight with `gc.freeze()`: it lives as long as the process,
and full collections no longer walk it. Garbage cycles are still collected,
only later: a larger threshold holds at most that many more objects.

Settings read here: `GC_THRESHOLD` (0 leaves Python's own collector as it is).
"""

from __future__ import annotations

import gc
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from linkcrawler import config


class CollectorTuning:
    """`EXTENSIONS`: when the spider opens, start-up's objects frozen and the young-generation threshold raised."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold

    @classmethod
    def from_crawler(cls, crawler: Any) -> CollectorTuning:
        threshold = config.get(crawler.settings, "GC_THRESHOLD")
        if threshold <= 0:
            raise NotConfigured
        tuning = cls(threshold)
        crawler.signals.connect(tuning.spider_opened, signal=signals.spider_opened)
        return tuning

    def spider_opened(self, spider: Any) -> None:
        gc.collect()
        gc.freeze()
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(self.threshold, older, oldest)
