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

A batch that can be written neither to MongoDB nor to disk (the spill
directory unwritable, the disk full) stays in memory with its frontier leases
held, and is tried again: then memory grows with the crawl, and a worker
killed for it leaves its pages leased, to be fetched again, rather than acked
and lost. A worker closing in that state leaves those pages leased for the
same reason. Each outage gets a journal file of its own, closed once MongoDB
has taken every queued batch again, so `linkcrawler replay` can load it while
the worker keeps running (it takes only closed files).

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
        self._unspillable = False
        self.spill_paths: list[Path] = []
        """Every journal file batches were spilled to, one per outage."""

    def submit(self, links: list[dict[str, Any]], pages: list[dict[str, Any]], leases: list[str] = ()) -> None:
        """Queue a batch; spill the oldest queued ones while the buffer holds more than its bound."""
        self.pending.append(Batch(links, pages, list(leases)))
        self.buffered += len(links) + len(pages)
        while self.buffered > self.policy.buffer_size and self.pending:
            batch = self._take()
            if not self._spill(batch):
                self._put_back(batch)
                break
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
            self._spill_pending()
        drained: defer.Deferred[None] = defer.Deferred()
        self._drained.append(drained)
        self._next()
        drained.addCallback(lambda _: self._close_journal())
        return drained

    def _take(self) -> Batch:
        batch = self.pending.popleft()
        self.buffered -= len(batch[0]) + len(batch[1])
        return batch

    def _put_back(self, batch: Batch) -> None:
        self.pending.appendleft(batch)
        self.buffered += len(batch[0]) + len(batch[1])

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
        if self._journal is not None and not self.pending:
            logger.info("MongoDB has caught up; %s is complete (load with `linkcrawler replay %s`)",
                        self._journal.path, self.spill_dir)  # fmt: skip
            self._close_journal()
        self._next()

    def _failed(self, failure: Failure) -> None:
        self._attempts += 1
        self.failures += 1
        message = failure.getErrorMessage().splitlines()[0] if failure.getErrorMessage() else ""
        retries_left = self.policy.retry_times - self._attempts
        if self._closing or retries_left < 0:
            logger.error("store write failed %d time(s) (%s: %s); spilling the batch to %s",
                         self._attempts, failure.type.__name__, message, self.spill_dir)  # fmt: skip
            if self._spill_inflight():
                if self._closing:
                    self._spill_pending()
                self._next()
                return
        delay = self.policy.delay(self.failures)
        logger.warning("store write failed (%s: %s); %d retries left, next in %.1f s",
                       failure.type.__name__, message, max(retries_left, 0), delay)  # fmt: skip
        self.retries += 1
        self._retry_call = self.clock.callLater(delay, self._attempt)

    def _spill_inflight(self) -> bool:
        """Spill the batch being written; one that cannot be stays in flight (or is left, when closing)."""
        assert self._inflight is not None
        if not self._spill(self._inflight) and not self._closing:
            return False
        self._inflight = None
        self._attempts = 0
        return True

    def _spill_pending(self) -> None:
        """Closing: spill every queued batch; those that cannot be are left with their leases held."""
        while self.pending:
            self._spill(self._take())

    def _spill(self, batch: Batch) -> bool:
        """Append a batch to the journal and release its leases; False (leases held) if the disk refused it."""
        try:
            if self._journal is None:
                self._journal = Journal(self.spill_dir)
                self.spill_paths.append(self._journal.path)
                logger.warning("MongoDB is not keeping up; spilling batches to %s (load with `linkcrawler replay %s`)",
                               self._journal.path, self.spill_dir)  # fmt: skip
            self._journal.write(batch.links, batch.pages)
        except OSError as exc:
            self._cannot_spill(batch, exc)
            return False
        self._unspillable = False
        self.on_spilled(batch.links, batch.pages)
        self._durable(batch)
        return True

    def _cannot_spill(self, batch: Batch, exc: OSError) -> None:
        pages = len(batch.pages)
        if self._closing:
            logger.error("cannot spill a batch to %s (%s); its %d page(s) stay leased and will be fetched again",
                         self.spill_dir, exc.strerror or exc, pages)  # fmt: skip
        elif not self._unspillable:
            logger.error("cannot spill to %s (%s); batches stay in memory, their pages leased, until MongoDB "
                         "or the disk takes them", self.spill_dir, exc.strerror or exc)  # fmt: skip
        self._unspillable = True

    def _durable(self, batch: Batch) -> None:
        if batch.leases and self.on_durable is not None:
            self.on_durable(batch.leases)

    def _close_journal(self) -> None:
        """End this outage's journal file: closed, it is `linkcrawler replay`'s to take."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
