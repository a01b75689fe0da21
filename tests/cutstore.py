"""A store whose writes a fault test cuts off midway, from outside the worker process that makes them.

Worker processes load `CutStorePipeline` through `ITEM_PIPELINES`: the
project's store pipeline, with its `SpillingWriter`, retries and spill
directory, in front of a `CutStore`. The store holds no database (an
emulated one cannot be shared between processes): it records each write in
`records-PID.jsonl` under `CUT_STORE_DIR`, as written whole or as cut off
after some round trips, and the test applies the records, in the order made,
to its own database (`apply`): a cut write through a `LinkStore` whose
connection drops at that round trip (`CutOff`), the real partial write.

While the file `down` exists in `CUT_STORE_DIR`, every write is cut (after
0, 1, 2, then 3 round trips, in turn) and fails as an unreachable MongoDB
does, so the worker retries and spills it. A file `die` holding a number
makes the next write of one worker stop after that many round trips and the
worker SIGKILL itself: killed in the middle of a batch.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bson import json_util
from pymongo.errors import AutoReconnect

from linkcrawler.store.linkstore import LinkStore, WriteResult
from pipelines.store import StorePipeline

OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
ROUND_TRIPS = 4
"""A batch's round trips in `LinkStore.write`: pages, links, the pages read back, the links told of them."""


def pipelines() -> str:
    """`ITEM_PIPELINES` for a worker whose store is cut (as `-s` takes it)."""
    return '{"pipelines.normalize.NormalizePipeline": 100, "tests.cutstore.CutStorePipeline": 800}'


class CutStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.records = (directory / f"records-{os.getpid()}.jsonl").open("a")
        self.cuts = itertools.cycle(range(ROUND_TRIPS))

    def write(self, links: list[dict[str, Any]], pages: list[dict[str, Any]]) -> WriteResult:
        if (self.directory / "down").exists():
            self._record(links, pages, next(self.cuts))
            raise AutoReconnect("connection reset mid-batch (cut by the test)")
        claimed = self.directory / f"die-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            (self.directory / "die").rename(claimed)
            self._record(links, pages, int(claimed.read_text()))
            os.kill(os.getpid(), signal.SIGKILL)
        self._record(links, pages, None)
        return WriteResult(pages_written=len(pages))

    def _record(self, links: list[dict[str, Any]], pages: list[dict[str, Any]], cut: int | None) -> None:
        self.records.write(json_util.dumps({"links": links, "pages": pages, "cut": cut}, json_options=OPTIONS) + "\n")
        self.records.flush()
        os.fsync(self.records.fileno())


class CutStorePipeline(StorePipeline):
    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls.on_sink(crawler, CutStore(Path(crawler.settings["CUT_STORE_DIR"])))


def records(directory: Path) -> Iterator[dict[str, Any]]:
    """Every write the workers made, file by file, in the order made: `links`, `pages` and `cut` (None: whole)."""
    for path in sorted(directory.glob("records-*.jsonl")):
        with path.open() as lines:
            for line in lines:
                yield json_util.loads(line, json_options=OPTIONS)


class CutOff:
    """A database whose connection drops at round trip `round_trips + 1`; a bulk write cut there has applied the
    first half of its operations (an unordered bulk may apply any part of itself)."""

    def __init__(self, database: Any, round_trips: int) -> None:
        self.database = database
        self.left = round_trips

    def __getitem__(self, name: str) -> _CutCollection:
        return _CutCollection(self, self.database[name])

    def spend(self) -> bool:
        """Whether the next round trip goes through."""
        self.left -= 1
        return self.left >= 0


class _CutCollection:
    def __init__(self, cut: CutOff, collection: Any) -> None:
        self.cut = cut
        self.collection = collection

    def bulk_write(self, requests: list[Any], ordered: bool = True) -> Any:
        if self.cut.spend():
            return self.collection.bulk_write(requests, ordered=ordered)
        if len(requests) > 1:
            self.collection.bulk_write(requests[: len(requests) // 2], ordered=ordered)
        raise AutoReconnect("connection reset mid-batch")

    def find(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        if self.cut.spend():
            return list(self.collection.find(*args, **kwargs))
        raise AutoReconnect("connection reset mid-batch")


def apply(record: dict[str, Any], database: Any) -> None:
    """Make a recorded write on `database`: whole, or cut off where it was (a write making no more round trips
    than that goes through whole)."""
    if record["cut"] is None:
        LinkStore(database).write(record["links"], record["pages"])
        return
    with contextlib.suppress(AutoReconnect):
        LinkStore(CutOff(database, record["cut"])).write(record["links"], record["pages"])
