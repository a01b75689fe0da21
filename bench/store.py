"""The store stage: MongoDB round trips per 1,000 links, and upsert speed when no MongoDB is given.

Round trips are counted on the batches a benchmark crawl really made (the
store pipeline's size and time limits decide them), one per `bulk_write`
call, as `LinkStore.write` reports them:

- with `MONGO_URI`, the workers wrote to MongoDB themselves and their
  `linkcrawler/store/round_trips` and `linkcrawler/store/links_written`
  stats give the number;
- without it, the workers appended the same batches to a journal, and its
  replay into the in-process emulation (`mongomock`) issues the very
  `bulk_write` calls a live store would have. The replay is timed too: that
  is the store stage measured on its own (emulated upserts are pure Python
  and far slower than a real server; the number says what the emulation
  costs, not what MongoDB would).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from bench.crawl import Run
from linkcrawler.store.journal import replay
from linkcrawler.store.linkstore import LinkStore, WriteResult
from linkcrawler.store.mongo import get_database


class TimedStore(LinkStore):
    """A `LinkStore` that adds up its round trips, links and time spent writing."""

    def __init__(self, database: Any) -> None:
        super().__init__(database)
        self.round_trips = self.links_written = self.pages_written = 0
        self.seconds = 0.0

    def write(self, links: Iterable[dict[str, Any]], pages: Iterable[dict[str, Any]]) -> WriteResult:
        links, pages = list(links), list(pages)
        started = time.perf_counter()
        result = super().write(links, pages)
        self.seconds += time.perf_counter() - started
        self.round_trips += result.round_trips
        self.links_written += len(links)
        self.pages_written += len(pages)
        return result


def per_thousand_links(round_trips: int, links: int) -> float:
    if links <= 0:
        raise RuntimeError("the benchmark crawl stored no links")
    return round(1000 * round_trips / links, 2)


def measure(run: Run, mongo_uri: str | None) -> dict[str, Any]:
    """Round trips of `run` (one of our workers' crawls), and the store's own speed if it was not in the crawl."""
    if mongo_uri:
        stats = run.stats
        return {
            "mongo_round_trips_per_1000_links": per_thousand_links(
                stats.get("linkcrawler/store/round_trips", 0), stats.get("linkcrawler/store/links_written", 0)
            ),
            "store_stage": "in the worker: MongoDB at MONGO_URI",
        }
    assert run.journal is not None
    store = TimedStore(get_database(f"mongomock://bench-{uuid.uuid4().hex}", "linkcrawler"))
    store.ensure_indexes()
    replay(run.journal, store)
    return {
        "mongo_round_trips_per_1000_links": per_thousand_links(store.round_trips, store.links_written),
        "store_stage": (
            "measured separately: no MONGO_URI, so the workers wrote their batches to a journal on disk; "
            "those batches were then upserted into mongomock (in-process emulation)"
        ),
        "store_links_per_second_mongomock": round(store.links_written / store.seconds),
        "store_pages_per_second_mongomock": round(store.pages_written / store.seconds),
    }
