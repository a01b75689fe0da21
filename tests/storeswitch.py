"""A store that a fault test switches off and on from outside the worker process that writes to it.

Worker processes load `SwitchedStorePipeline` through `ITEM_PIPELINES`: the
project's store pipeline, with its `SpillingWriter`, retries and spill
directory, in front of a store that fails as an unreachable MongoDB does
while the file `STORE_SWITCH_DOWN` exists. What it takes goes to a journal
in `STORE_SWITCH_JOURNAL`, which the test replays into its database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pymongo.errors import AutoReconnect

from linkcrawler.store.journal import Journal
from linkcrawler.store.linkstore import WriteResult
from pipelines.store import StorePipeline


def pipelines() -> str:
    """`ITEM_PIPELINES` for a worker whose store is switched (as `-s` takes it)."""
    return '{"pipelines.normalize.NormalizePipeline": 100, "tests.storeswitch.SwitchedStorePipeline": 800}'


class SwitchedStore:
    def __init__(self, down: Path, landed: Path) -> None:
        self.down = down
        self.landed = landed
        self.journal: Journal | None = None

    def write(self, links: list[dict[str, Any]], pages: list[dict[str, Any]]) -> WriteResult:
        if self.down.exists():
            raise AutoReconnect("connection refused (switched off by the test)")
        if self.journal is None:
            self.journal = Journal(self.landed)
        return self.journal.write(links, pages)


class SwitchedStorePipeline(StorePipeline):
    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        settings = crawler.settings
        store = SwitchedStore(Path(settings["STORE_SWITCH_DOWN"]), Path(settings["STORE_SWITCH_JOURNAL"]))
        return cls.on_sink(crawler, store)
