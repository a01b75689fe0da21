"""Item pipeline: batches documents and writes them with unordered bulk upserts."""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import task

from linkcrawler import defaults
from linkcrawler.leases import request_done
from linkcrawler.records import PageRecords
from linkcrawler.sink import open_sink

logger = logging.getLogger(__name__)


class StorePipeline:
    """Buffers `PageRecords` and flushes them to the sink (MongoDB or a journal).

    A batch is flushed when it holds `STORE_BATCH_SIZE` links or pages, when
    `STORE_FLUSH_SECONDS` have passed since the last flush, and when the
    spider closes: a quiet crawl still lands its links within seconds, a busy
    one pays one round trip per collection per batch. Only once a batch is
    written are its pages' frontier leases released (`request_done`): a
    worker killed with a batch in memory leaves those pages to be refetched.

    Settings read here:

    - `MONGO_URI`: `mongodb://...`, `mongodb+srv://...`, `mongomock://` or
      `journal:///DIR` (see `linkcrawler.sink`).
    - `MONGO_DATABASE` (default `linkcrawler`).
    - `STORE_BATCH_SIZE` (default 1000) and `STORE_FLUSH_SECONDS` (default 2).
    """

    def __init__(self, sink: Any, stats: Any, batch_size: int, flush_seconds: float, signals: Any = None) -> None:
        self.sink = sink
        self.stats = stats
        self.signals = signals
        self.leases: list[str] = []
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.links: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        sink = open_sink(settings.get("MONGO_URI"), settings.get("MONGO_DATABASE") or defaults.MONGO_DATABASE)
        pipeline = cls(
            sink,
            crawler.stats,
            settings.getint("STORE_BATCH_SIZE", defaults.STORE_BATCH_SIZE),
            settings.getfloat("STORE_FLUSH_SECONDS", defaults.STORE_FLUSH_SECONDS),
            crawler.signals,
        )
        return pipeline

    def open_spider(self) -> None:
        if self.flush_seconds > 0:
            self._timer = task.LoopingCall(self.flush)
            self._timer.start(self.flush_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageRecords):
            self.links.extend(item.links)
            self.pages.extend(item.pages)
            self.leases.extend(item.leases)
            if len(self.links) >= self.batch_size or len(self.pages) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.links and not self.pages:
            return
        links, pages, leases = self.links, self.pages, self.leases
        self.links, self.pages, self.leases = [], [], []
        result = self.sink.write(links, pages)
        if leases and self.signals is not None:
            self.signals.send_catch_log(request_done, leases=leases)
        self.stats.inc_value("linkcrawler/store/batches")
        self.stats.inc_value("linkcrawler/store/round_trips", result.round_trips)
        self.stats.inc_value("linkcrawler/store/links_written", len(links))
        self.stats.inc_value("linkcrawler/store/pages_written", len(pages))

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()
