"""What a job asks of MongoDB: each read's first-stage query and each collection's writes, through a thin proxy.

`RecordingDatabase` stands in for a pymongo (or mongomock) database and
hands out collections that note, before passing the call on, every
`aggregate` (its pipeline; the query is its first stage's `$match`, none
when the first stage is anything else), `find`, `find_one`, `distinct` and
`count_documents` (their filter, sort and limit), and count the documents
each write changed. With `count`, each read also counts the documents its
query matches at that moment (`count_documents`, on the collection itself,
not recorded, its time kept apart in `counting_seconds`). `bench/summarize.py`
sums those counts; `tests/test_indexes_real_mongo.py` explains each read on
a real server.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

WRITES = {
    "insert_one": lambda r: 1,
    "insert_many": lambda r: len(r.inserted_ids),
    "update_one": lambda r: r.modified_count + (r.upserted_id is not None),
    "update_many": lambda r: r.modified_count + (r.upserted_id is not None),
    "replace_one": lambda r: r.modified_count + (r.upserted_id is not None),
    "delete_one": lambda r: r.deleted_count,
    "delete_many": lambda r: r.deleted_count,
    "bulk_write": lambda r: r.inserted_count + r.upserted_count + r.modified_count + r.deleted_count,
    "find_one_and_update": lambda r: 1,
    "find_one_and_replace": lambda r: 1,
    "find_one_and_delete": lambda r: 1,
}
"""Each write method and the number of documents its result says it changed."""


@dataclass
class Read:
    """One read as the server receives it."""

    collection: str
    method: str
    """aggregate, find, distinct or count_documents (find_one is a find with limit 1)."""
    query: dict[str, Any] | None
    """The filter, or the aggregation's first `$match`; None when its first stage is not a `$match`."""
    pipeline: list[dict[str, Any]] | None = None
    key: str | None = None
    sort: list[tuple[str, int]] | None = None
    limit: int = 0
    matched: int | None = None
    """Documents the query matched when it ran (with `count`)."""


@dataclass
class Recorder:
    count: bool = False
    reads: list[Read] = field(default_factory=list)
    written: Counter[str] = field(default_factory=Counter)
    """Documents each collection's writes changed."""
    copied: Counter[str] = field(default_factory=Counter)
    """Documents a pipeline over each collection wrote elsewhere (`$out`, `$merge`): the size of its output."""
    counting_seconds: float = 0.0

    def read(self, collection: Any, read: Read) -> None:
        if self.count:
            started = time.perf_counter()
            read.matched = collection.count_documents(read.query or {})
            self.counting_seconds += time.perf_counter() - started
        self.reads.append(read)


class RecordingDatabase:
    """A database whose collections record what is asked of them in `recorder`."""

    def __init__(self, database: Any, recorder: Recorder) -> None:
        self._database = database
        self.recorder = recorder

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self._database[name], self.recorder)

    def get_collection(self, name: str, **options: Any) -> RecordingCollection:
        return RecordingCollection(self._database.get_collection(name, **options), self.recorder)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)


class RecordingCollection:
    def __init__(self, collection: Any, recorder: Recorder) -> None:
        self._collection = collection
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._collection, name)
        if name in WRITES:
            return self._write(name, value)
        return value

    def _write(self, name: str, method: Any) -> Any:
        def write(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self._recorder.written[self._collection.name] += WRITES[name](result)
            return result

        return write

    def _read(self, read: Read) -> None:
        self._recorder.read(self._collection, read)

    def aggregate(self, pipeline: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        first = pipeline[0] if pipeline else {"$match": {}}
        self._read(Read(self.name, "aggregate", first.get("$match"), pipeline=list(pipeline)))
        result = self._collection.aggregate(pipeline, *args, **kwargs)
        output = _output(pipeline[-1]) if pipeline else None
        if output is not None:
            self._recorder.copied[self.name] += self._collection.database[output].estimated_document_count()
        return result

    def find(self, filter: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        self._read(Read(self.name, "find", filter or {}, sort=kwargs.get("sort"), limit=kwargs.get("limit") or 0))
        return self._collection.find(filter, *args, **kwargs)

    def find_one(self, filter: dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        self._read(Read(self.name, "find", filter or {}, sort=kwargs.get("sort"), limit=1))
        return self._collection.find_one(filter, *args, **kwargs)

    def distinct(self, key: str, filter: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self._read(Read(self.name, "distinct", filter or {}, key=key))
        return self._collection.distinct(key, filter, **kwargs)

    def count_documents(self, filter: dict[str, Any], **kwargs: Any) -> int:
        self._read(Read(self.name, "count_documents", filter))
        return self._collection.count_documents(filter, **kwargs)


def _output(stage: dict[str, Any]) -> str | None:
    """The collection a last stage writes to (`$out`, `$merge`), None for a stage that returns its documents."""
    target = stage.get("$out") or stage.get("$merge")
    if isinstance(target, dict):
        target = target.get("coll") or target.get("into")
    return target.get("coll") if isinstance(target, dict) else target
