"""Writing batches to MongoDB without stalling the crawl or losing them when MongoDB is down.

A bulk upsert blocks for a round trip, and for the server-selection timeout
when MongoDB is unreachable: run on the Twisted reactor, it would freeze every
download of the worker. `SpillingWriter` runs each write in a thread, one at a
time, and keeps the batches that arrive meanwhile in a buffer bounded by
document count. A failed write is retried with exponential backoff (on the
reactor's clock, never by sleeping); a batch that keeps failing, and every
batch that would push the buffer past its bound, is appended to a local
journal (`linkcrawler.store.journal`) instead, which `linkcrawler replay DIR` loads
once MongoDB is back. Memory stays bounded through an outage of any length,
and nothing is dropped: each batch ends in MongoDB or on disk.

Replayed batches may land after newer ones; the upserts are built for that
(`$min` first_seen, `$max` last_seen, `$inc` seen_count; see `linkcrawler.store.linkstore`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pymongo
from twisted.internet import defer
from twisted.python.failure import Failure

from linkcrawler import config
from linkcrawler.store.journal import Journal
from linkcrawler.store.linkstore import LinkStore, WriteResult

logger = logging.getLogger(__name__)


class Batch(NamedTuple):
    links: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    leases: list[str]


@dataclass(frozen=True)
class SpillPolicy:
    """How hard to try MongoDB before writing to disk instead (see `pipelines.store` for the settings)."""

    retry_times: int = config.default("STORE_RETRY_TIMES")
    backoff: float = config.default("STORE_RETRY_BACKOFF")
    max_backoff: float = config.default("STORE_RETRY_BACKOFF_MAX")
    buffer_size: int = config.default("STORE_BUFFER_SIZE")
    write_timeout: float = config.default("STORE_WRITE_TIMEOUT")

    def delay(self, failures: int) -> float:
        """Seconds before the next attempt after `failures` consecutive failed writes."""
        return min(self.backoff * 2 ** (failures - 1), self.max_backoff)


class SpillingWriter:
    """Feeds batches to a `LinkStore` from a thread; retries, buffers and spills to `spill_dir`.

    `on_written(links, pages, result)` and `on_spilled(links, pages)` report
    each batch's fate (the pipeline turns them into stats); `on_durable(leases)`
    follows either, with the frontier leases submitted with the batch: a page
    leaves the frontier only once its documents are in MongoDB or on disk. `clock` and
    `run_in_thread` are the reactor and `deferToThread` in a worker; tests pass
    a `task.Clock` and a synchronous runner to step through an outage.
    """

    def __init__(
        self,
        store: LinkStore,
        spill_dir: Path,
        policy: SpillPolicy,
        *,
        on_written: Callable[[list[Any], list[Any], WriteResult], None],
        on_spilled: Callable[[list[Any], list[Any]], None],
        on_durable: Callable[[list[str]], None] | None = None,
        clock: Any,
        run_in_thread: Callable[..., defer.Deferred[Any]],
    ) -> None:
        self.store = store
        self.spill_dir = spill_dir
        self.policy = policy
        self.on_written = on_written
        self.on_spilled = on_spilled
        self.on_durable = on_durable
        self.clock = clock
        self.run_in_thread = run_in_thread
        self.pending: deque[Batch] = deque()
        self.buffered = 0
        self.failures = 0
        self.retries = 0
        self._inflight: Batch | None = None
        self._attempts = 0
        self._retry_call: Any = None
        self._closing = False
        self._drained: list[defer.Deferred[None]] = []
        self._journal: Journal | None = None

    @property
    def spill_path(self) -> Path | None:
        """The journal file batches were spilled to, if any."""
        return self._journal.path if self._journal is not None else None

    def submit(self, links: list[dict[str, Any]], pages: list[dict[str, Any]], leases: list[str] = ()) -> None:
        """Queue a batch; spill the oldest queued ones while the buffer holds more than its bound."""
        self.pending.append(Batch(links, pages, list(leases)))
        self.buffered += len(links) + len(pages)
        while self.buffered > self.policy.buffer_size and self.pending:
            self._spill(self._take())
        self._next()

    def close(self) -> defer.Deferred[None]:
        """Finish: queued batches are written while MongoDB answers, spilled at the first failure.

        Fires once every batch is in MongoDB or in the spill journal; a
        pending retry is not waited for (its batch is spilled now).
        """
        self._closing = True
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
            self._retry_call = None
            self._spill_inflight()
        if self.failures:
            while self.pending:
                self._spill(self._take())
        drained: defer.Deferred[None] = defer.Deferred()
        self._drained.append(drained)
        self._next()
        drained.addCallback(lambda _: self._close_journal())
        return drained

    def _take(self) -> Batch:
        batch = self.pending.popleft()
        self.buffered -= len(batch[0]) + len(batch[1])
        return batch

    def _next(self) -> None:
        if self._inflight is not None or (self._retry_call is not None and self._retry_call.active()):
            return
        if not self.pending:
            drained, self._drained = self._drained, []
            for waiter in drained:
                waiter.callback(None)
            return
        self._inflight = self._take()
        self._attempt()

    def _attempt(self) -> None:
        self._retry_call = None
        assert self._inflight is not None
        result = self.run_in_thread(self._write, self._inflight.links, self._inflight.pages)
        result.addCallbacks(self._written, self._failed)

    def _write(self, links: list[dict[str, Any]], pages: list[dict[str, Any]]) -> WriteResult:
        with pymongo.timeout(self.policy.write_timeout):
            return self.store.write(links, pages)

    def _written(self, result: WriteResult) -> None:
        assert self._inflight is not None
        batch, self._inflight = self._inflight, None
        self._attempts = self.failures = 0
        self.on_written(batch.links, batch.pages, result)
        self._durable(batch)
        self._next()

    def _failed(self, failure: Failure) -> None:
        self._attempts += 1
        self.failures += 1
        message = failure.getErrorMessage().splitlines()[0] if failure.getErrorMessage() else ""
        if self._closing or self._attempts > self.policy.retry_times:
            logger.error("store write failed %d time(s) (%s: %s); batch spilled to %s",
                         self._attempts, failure.type.__name__, message, self.spill_dir)  # fmt: skip
            self._spill_inflight()
            while self._closing and self.pending:
                self._spill(self._take())
            self._next()
            return
        delay = self.policy.delay(self.failures)
        logger.warning("store write failed (%s: %s); retry %d of %d in %.1f s",
                       failure.type.__name__, message, self._attempts, self.policy.retry_times, delay)  # fmt: skip
        self.retries += 1
        self._retry_call = self.clock.callLater(delay, self._attempt)

    def _spill_inflight(self) -> None:
        assert self._inflight is not None
        batch, self._inflight = self._inflight, None
        self._attempts = 0
        self._spill(batch)

    def _spill(self, batch: Batch) -> None:
        if self._journal is None:
            self._journal = Journal(self.spill_dir)
            logger.warning("MongoDB is not keeping up; spilling batches to %s (load with `linkcrawler replay %s`)",
                           self._journal.path, self.spill_dir)  # fmt: skip
        self._journal.write(batch.links, batch.pages)
        self.on_spilled(batch.links, batch.pages)
        self._durable(batch)

    def _durable(self, batch: Batch) -> None:
        if batch.leases and self.on_durable is not None:
            self.on_durable(batch.leases)

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
