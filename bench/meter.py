"""A Scrapy extension that times every page a crawl downloads, and stops the crawl after a set number.

Every side of the crawl benchmark (our worker, bare Scrapy, stock
scrapy-redis) loads it the same way (`-s EXTENSIONS=...`), so all are
timed at the same point: when the downloader hands a response on
(`response_downloaded`), before middlewares and the spider see it. In a
steady state pages leave the downloader as fast as the process can handle
them, so the arrival rate is the crawl rate, whatever the bottleneck.
robots.txt downloads are not pages and are not counted.

Timestamps are `time.monotonic()`, one clock for every process on the
machine, so the timestamps of two workers can be merged; each comes with
the process's CPU time (`time.process_time()`), so a window's CPU per page
can be told apart from the machine's other load, which moves pages per
second from one run to the next but not the CPU a page costs. Each line is
appended to `BENCH_METER_FILE` as it happens (one line per page), so
`bench.crawl` can follow a run live and stop it once it has counted enough
pages after a warm-up; at close the crawl's `linkcrawler/*` stats follow
as one JSON line.

Settings read here:

- `BENCH_METER_FILE` (path, required): where to write the timings.
- `BENCH_STOP_AFTER` (int, default 0 = never): close the spider after this
  many pages, a bound on a run that nobody stops.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

ROBOTS_PATH = "/robots.txt"


class PageMeter:
    def __init__(self, crawler: Any, path: Path, stop_after: int) -> None:
        self.crawler = crawler
        self.path = path
        self.stop_after = stop_after
        self.pages = 0
        self._file = path.open("w")

    @classmethod
    def from_crawler(cls, crawler: Any) -> PageMeter:
        path = crawler.settings.get("BENCH_METER_FILE")
        if not path:
            raise NotConfigured("BENCH_METER_FILE is not set")
        meter = cls(crawler, Path(path), crawler.settings.getint("BENCH_STOP_AFTER"))
        crawler.signals.connect(meter.downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(meter.closed, signal=signals.spider_closed)
        return meter

    def downloaded(self, response: Any, request: Any, **_: Any) -> None:
        if request.url.endswith(ROBOTS_PATH):
            return
        self._file.write(f"{time.monotonic()} {time.process_time()}\n")
        self._file.flush()
        self.pages += 1
        if self.pages == self.stop_after:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="bench_page_count"))

    def closed(self, **_: Any) -> None:
        stats = {key: value for key, value in self.crawler.stats.get_stats().items() if key.startswith("linkcrawler/")}
        self._file.write(json.dumps(stats) + "\n")
        self._file.close()
