"""mongomock internals (written against mongomock 4.3), patched into the in-process emulation only.

- `BulkOperationBuilder.add_update`: pymongo >= 4.11 passes `sort=`, which
  mongomock does not accept.
- `Collection._iter_documents` and `Collection._store`: every filter scans
  the whole collection, which makes a crawl's upserts quadratic; a lookup by
  `_id` goes through the store's own key instead.

No production query is bent to the emulation: both patches keep mongomock's
answers exactly as they were, only reachable by the code pymongo now sends,
and faster.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any


def patch() -> None:
    """Apply the patches (idempotent)."""
    _accept_sorted_bulk_updates()
    _find_by_id_through_its_key()
    _define_now()


def _accept_sorted_bulk_updates() -> None:
    """Let mongomock 4.3 run pymongo >= 4.11 bulk writes.

    pymongo's `UpdateOne` passes `sort=` to the bulk builder, which mongomock's
    `add_update` does not accept; it is only meaningful for updates without
    upsert ordering, which we never send, so the shim drops it when unset.
    """
    from mongomock.collection import BulkOperationBuilder

    original = BulkOperationBuilder.add_update
    if getattr(original, "_accepts_sort", False):
        return

    @functools.wraps(original)
    def add_update(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        if sort is not None:
            raise NotImplementedError("mongomock: sorted bulk updates are not emulated")
        return original(self, *args, **kwargs)

    add_update._accepts_sort = True  # type: ignore[attr-defined]
    BulkOperationBuilder.add_update = add_update


def _find_by_id_through_its_key() -> None:
    """Find documents by `_id` through mongomock's own key, not by scanning them all.

    mongomock 4.3 tests every document of a collection against every filter,
    which makes each upsert linear and a crawl's worth of them quadratic
    (2,700 link upserts: 15 s). A filter that is exactly `{"_id": value}`
    with a plain value matches at most the document stored under that key,
    so the result is the same, in constant time.
    """
    from mongomock.collection import Collection

    original = Collection._iter_documents
    if getattr(original, "_by_key", False):
        return

    @functools.wraps(original)
    def iter_documents(self: Any, filter: Any) -> Any:
        if isinstance(filter, dict) and len(filter) == 1 and isinstance(filter.get("_id"), str | int):
            key = filter["_id"]
            return iter([self._store[key]] if key in self._store else [])
        return original(self, filter)

    iter_documents._by_key = True  # type: ignore[attr-defined]
    Collection._iter_documents = iter_documents


def _define_now() -> None:
    """Give aggregation expressions and update pipelines `$$NOW`: the current time as BSON keeps it (naive UTC,
    to the millisecond)."""
    from mongomock.aggregate import _Parser

    original = _Parser.__init__
    if getattr(original, "_defines_now", False):
        return

    @functools.wraps(original)
    def init(self: Any, doc_dict: Any, user_vars: Any = None, ignore_missing_keys: bool = False) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        original(self, doc_dict, {"NOW": now, **(user_vars or {})}, ignore_missing_keys)

    init._defines_now = True  # type: ignore[attr-defined]
    _Parser.__init__ = init
