"""Item pipeline: batches documents and writes them with unordered bulk upserts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor, threads
from twisted.internet.interfaces import IDelayedCall

from linkcrawler import config
from linkcrawler.frontier.leases import request_done
from linkcrawler.store.documents import PageRecords
from linkcrawler.store.journal import Journal
from linkcrawler.store.linkstore import WriteResult
from linkcrawler.store.mongo import open_sink
from linkcrawler.store.spill import SpillingWriter, SpillPolicy

logger = logging.getLogger(__name__)


class StorePipeline:
    """Buffers `PageRecords` and flushes them to the sink (MongoDB or a journal).

    A batch is flushed when it holds `STORE_BATCH_SIZE` links or pages, when
    `STORE_FLUSH_SECONDS` have passed since its first page arrived, and when
    the spider closes: a quiet crawl still lands its links within seconds,
    and a busy one (or one starting slowly) writes batches of many links, so
    it pays its four round trips a batch (`LinkStore.write`) per thousands of
    links, not per tick. The timer also bounds
    what a killed worker makes others refetch (its pages' leases are held
    until their batch is stored): about that many seconds of its crawling. Only once a batch is
    stored (or spilled to disk) are its pages' frontier leases released
    (`request_done`): a worker killed with a batch in memory leaves those
    pages to be refetched.

    MongoDB batches go through a `SpillingWriter` (see `linkcrawler.store.spill`):
    written from a thread, retried with backoff while MongoDB is down, spilled
    to a local journal past a bounded buffer. A `journal:///DIR` sink is a
    local append and is written directly.

    Settings read here:

    - `MONGO_URI`: `mongodb://...`, `mongodb+srv://...`, `mongomock://` or
      `journal:///DIR` (see `linkcrawler.store.mongo.open_sink`).
    - `MONGO_DATABASE` (default `linkcrawler`).
    - `STORE_BATCH_SIZE` (default 4000) and `STORE_FLUSH_SECONDS` (default 5).
    - `STORE_RETRY_TIMES` (default 5): retries of a failed write before its
      batch is spilled; `STORE_RETRY_BACKOFF` (default 0.5 s) doubles after
      each consecutive failure up to `STORE_RETRY_BACKOFF_MAX` (default 30 s).
    - `STORE_BUFFER_SIZE` (default 10,000): links and pages held in memory
      while a write is in flight or retried; older batches past it are spilled.
    - `STORE_SPILL_DIR` (default `linkcrawler-spill`): where spilled batches
      go, one journal file per worker and outage; load them with
      `linkcrawler replay DIR`. `scrapy crawl` refuses to start when it is not
      writable; a batch that cannot be spilled all the same stays in memory,
      its leases held.
    - `STORE_WRITE_TIMEOUT` (default 10 s): a write that takes longer, server
      selection included, fails (and is retried), so a MongoDB that hangs or
      is gone cannot hold a batch forever.

    Stats: `linkcrawler/store/{batches,round_trips,links_written,pages_written}`,
    `linkcrawler/store/retries` and `linkcrawler/store/{spilled_batches,spilled_links,spilled_pages}`.
    """

    def __init__(
        self, sink: Any, stats: Any, batch_size: int, flush_seconds: float, signals: Any = None, clock: Any = reactor
    ) -> None:
        self.sink = sink
        self.clock = clock
        self.stats = stats
        self.signals = signals
        self.leases: list[str] = []
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.links: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        self._timer: IDelayedCall | None = None
        self.writer: SpillingWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        sink = open_sink(config.get(settings, "MONGO_URI"), config.get(settings, "MONGO_DATABASE"))
        return cls.on_sink(crawler, sink)

    @classmethod
    def on_sink(cls, crawler: Any, sink: Any) -> StorePipeline:
        """The pipeline of `crawler` writing to `sink`: a `Journal` directly, anything else through a `SpillingWriter`.

        Apart from `from_crawler` so a fault test can hand a worker a store that fails on demand.
        """
        settings = crawler.settings
        pipeline = cls(
            sink,
            crawler.stats,
            config.get(settings, "STORE_BATCH_SIZE"),
            config.get(settings, "STORE_FLUSH_SECONDS"),
            crawler.signals,
        )
        if not isinstance(sink, Journal):
            policy = SpillPolicy(
                retry_times=config.get(settings, "STORE_RETRY_TIMES"),
                backoff=config.get(settings, "STORE_RETRY_BACKOFF"),
                max_backoff=config.get(settings, "STORE_RETRY_BACKOFF_MAX"),
                buffer_size=config.get(settings, "STORE_BUFFER_SIZE"),
                write_timeout=config.get(settings, "STORE_WRITE_TIMEOUT"),
            )
            pipeline.writer = SpillingWriter(
                sink,
                Path(config.get(settings, "STORE_SPILL_DIR")),
                policy,
                on_written=pipeline.count_written,
                on_spilled=pipeline.count_spilled,
                on_durable=pipeline.release,
                clock=reactor,
                run_in_thread=threads.deferToThread,
            )
        return pipeline

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageRecords):
            if self._timer is None and self.flush_seconds > 0:
                self._timer = self.clock.callLater(self.flush_seconds, self.flush)
            self.links.extend(item.links)
            self.pages.extend(item.pages)
            self.leases.extend(item.leases)
            if len(self.links) >= self.batch_size or len(self.pages) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if not self.links and not self.pages:
            return
        links, pages, leases = self.links, self.pages, self.leases
        self.links, self.pages, self.leases = [], [], []
        if self.writer is not None:
            self.writer.submit(links, pages, leases)
        else:
            self.count_written(links, pages, self.sink.write(links, pages))
            self.release(leases)

    def release(self, leases: list[str]) -> None:
        """Acknowledge the frontier leases of pages whose documents are now durable."""
        if leases and self.signals is not None:
            self.signals.send_catch_log(request_done, leases=leases)

    def count_written(self, links: list[Any], pages: list[Any], result: WriteResult) -> None:
        self.stats.inc_value("linkcrawler/store/batches")
        self.stats.inc_value("linkcrawler/store/round_trips", result.round_trips)
        self.stats.inc_value("linkcrawler/store/links_written", len(links))
        self.stats.inc_value("linkcrawler/store/pages_written", len(pages))

    def count_spilled(self, links: list[Any], pages: list[Any]) -> None:
        self.stats.inc_value("linkcrawler/store/spilled_batches")
        self.stats.inc_value("linkcrawler/store/spilled_links", len(links))
        self.stats.inc_value("linkcrawler/store/spilled_pages", len(pages))

    async def close_spider(self) -> None:
        """Flush the last batch; with MongoDB, the spider closes once every batch is stored or spilled."""
        self.flush()
        if self.writer is None:
            self.sink.close()
            return
        await maybe_deferred_to_future(self.writer.close())
        self.stats.set_value("linkcrawler/store/retries", self.writer.retries)
