"""mongomock internals (written against mongomock 4.3), patched into the in-process emulation only.

- `BulkOperationBuilder.add_update`: pymongo >= 4.11 passes `sort=`, which
  mongomock does not accept.
- `Collection._iter_documents` and `Collection._store`: every filter scans
  the whole collection, which makes a crawl's upserts quadratic; a lookup by
  `_id` goes through the store's own key instead.
- `CollectionStore`, `Collection._iter_documents` and `Collection.aggregate`:
  equality lookups (and an aggregation's first `$match`) on the fields the
  store and the profile job look up by read only the documents holding the
  value, as a server's index does: the store's per-page updates and the
  job's per-domain pipelines otherwise read every document, and a crawl of
  2,000 pages took minutes to replay.
- `Cursor._compute_results`: a cursor with a skip or a limit copies its
  whole result list for every document it yields, so reading N results
  costs N^2/2 copies; the window is cut once per result list instead.
- `aggregate._handle_group_stage`: `$group` sorts every document by its
  group key (a Python comparison of BSON order per pair, the key computed
  twice) to group neighbours; documents are grouped by a hash of the key
  instead, in their order, and only the groups are sorted, into the order
  mongomock gives them.
- `aggregate._Parser`: the `$$NOW` variable (the server's clock, which the
  store stamps changes with) is not defined; it reads this process's clock.

No production query is bent to the emulation: the patches keep mongomock's
answers exactly as they were (the lookups still test each document against
the whole filter and run the whole pipeline), only reachable by the code
pymongo now sends, and faster.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any


def patch() -> None:
    """Apply the patches (idempotent)."""
    _accept_sorted_bulk_updates()
    _find_by_id_through_its_key()
    _look_up_through_indexes()
    _cut_the_cursor_window_once()
    _group_by_hash()
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


INDEXED = {
    "links": ("target_domain", "source_url", "target_url"),
    "pages": ("domain",),
    "referring_domains": ("target", "source"),
    "profile_history": ("domain",),
}
"""Per collection, the fields a lookup can start from; each is set when the document is inserted and never after."""


def _look_up_through_indexes() -> None:
    """Answer lookups by an indexed field (`INDEXED`) from an index kept beside each collection's documents."""
    from mongomock import aggregate as pipelines
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies
    from mongomock.store import CollectionStore

    if getattr(CollectionStore.__setitem__, "_indexed", False):
        return
    setitem_of, delitem_of = CollectionStore.__setitem__, CollectionStore.__delitem__
    iter_documents_of, aggregate_of = Collection._iter_documents, Collection.aggregate

    def setitem(store: Any, key: Any, document: Any) -> None:
        index = _index_of(store)
        if index is not None:
            index.remove(key, store._documents.get(key), deleted=False)
            index.add(key, document)
        setitem_of(store, key, document)

    def delitem(store: Any, key: Any) -> None:
        index = _index_of(store)
        if index is not None:
            index.remove(key, store._documents.get(key), deleted=True)
        delitem_of(store, key)

    def iter_documents(collection: Any, filter: Any) -> Any:
        found = _candidates(collection._store, filter)
        if found is None:
            return iter_documents_of(collection, filter)
        return (document for document in found if filter_applies(filter, document))

    def aggregate(collection: Any, pipeline: list[dict[str, Any]], session: Any = None, **kwargs: Any) -> Any:
        first = pipeline[0].get("$match") if pipeline else None
        if not _narrows(collection._store, first):
            return aggregate_of(collection, pipeline, session, **kwargs)
        documents = list(collection.find(first))  # the stage itself, as an indexed find: one matching pass
        return pipelines.process_pipeline(documents, collection.database, pipeline[1:], session)

    setitem._indexed = True  # type: ignore[attr-defined]
    CollectionStore.__setitem__, CollectionStore.__delitem__ = setitem, delitem
    Collection._iter_documents, Collection.aggregate = iter_documents, aggregate


def _cut_the_cursor_window_once() -> None:
    """Keep the skip-and-limit window of a cursor's results, cut when the results or the window change."""
    from mongomock.collection import Cursor

    compute_of = Cursor._compute_results
    if getattr(compute_of, "_windowed", False):
        return

    def compute_results(cursor: Any, with_limit_and_skip: bool = False) -> list[Any]:
        results = compute_of(cursor)
        if not with_limit_and_skip:
            return results
        cut = getattr(cursor, "_emulated_cut", None)
        if cut is None or cut[0] is not results or cut[1:] != (cursor._skip, cursor._limit):
            window = results[cursor._skip :]
            cursor._emulated_window = window[: abs(cursor._limit)] if cursor._limit else window
            cursor._emulated_cut = (results, cursor._skip, cursor._limit)
        return cursor._emulated_window

    compute_results._windowed = True  # type: ignore[attr-defined]
    Cursor._compute_results = compute_results


def _group_by_hash() -> None:
    """Group `$group`'s documents in one pass by key, then order the groups as mongomock's sort would."""
    from mongomock import aggregate as pipelines
    from mongomock import filtering

    original = pipelines._PIPELINE_HANDLERS["$group"]
    if getattr(original, "_hashed", False):
        return

    def group(in_collection: list[dict[str, Any]], database: Any, options: dict[str, Any]) -> list[dict[str, Any]]:
        expression = options["_id"]
        if not expression:
            return original(in_collection, database, options)
        groups: dict[Any, tuple[Any, list[dict[str, Any]]]] = {}
        for document in in_collection:
            try:
                key = pipelines._parse_expression(expression, document, ignore_missing_keys=True)
            except KeyError:
                key = None
            groups.setdefault(_hashable(key), (key, []))[1].append(document)
        grouped = []
        for key, documents in sorted(groups.values(), key=lambda group: filtering.BsonComparable(group[0])):
            accumulated = pipelines._accumulate_group(options, documents)
            accumulated["_id"] = key
            grouped.append(accumulated)
        return grouped

    group._hashed = True  # type: ignore[attr-defined]
    pipelines._PIPELINE_HANDLERS["$group"] = group


def _hashable(value: Any) -> Any:
    """A hashable stand-in for a group key that tells apart what BSON tells apart (a number from a boolean, a
    string from a date) and equates what it equates (1 and 1.0)."""
    if isinstance(value, dict):
        return ("object", tuple((name, _hashable(item)) for name, item in value.items()))
    if isinstance(value, list | tuple):
        return ("array", tuple(_hashable(item) for item in value))
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    return (type(value).__name__, value)


class _Index:
    """Keys by value of each indexed field, and each key's place in the collection's order (mongomock's natural
    order, which a re-stored document keeps)."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.keys: dict[str, dict[Any, set[Any]]] = {field: defaultdict(set) for field in fields}
        self.places: dict[Any, int] = {}
        self.next = 0

    def add(self, key: Any, document: dict[str, Any]) -> None:
        if key not in self.places:
            self.places[key] = self.next
            self.next += 1
        for field, keys in self.keys.items():
            keys[document.get(field)].add(key)

    def remove(self, key: Any, document: dict[str, Any] | None, *, deleted: bool) -> None:
        if document is not None:
            for field, keys in self.keys.items():
                keys[document.get(field)].discard(key)
        if deleted:
            self.places.pop(key, None)

    def ordered(self, keys: set[Any]) -> list[Any]:
        return sorted(keys, key=self.places.__getitem__)


def _index_of(store: Any) -> _Index | None:
    """The store's index, built from its documents on first use (None for a collection without indexed fields)."""
    if store.name not in INDEXED:
        return None
    index = getattr(store, "_emulated_index", None)
    if index is None:
        index = _Index(INDEXED[store.name])
        for key, document in store._documents.items():
            index.add(key, document)
        store._emulated_index = index
    return index


def _values(condition: Any) -> list[Any] | None:
    """The values an equality condition allows (a plain string, `$eq`, `$in`), None for any other condition."""
    if isinstance(condition, str):
        return [condition]
    if isinstance(condition, dict) and len(condition) == 1:
        if isinstance(condition.get("$eq"), str):
            return [condition["$eq"]]
        if isinstance(condition.get("$in"), list) and all(isinstance(v, str) for v in condition["$in"]):
            return condition["$in"]
    return None


def _candidates(store: Any, filter: Any) -> list[dict[str, Any]] | None:
    """The documents an index gives for `filter` (a superset of its matches), None when no index applies."""
    if not isinstance(filter, dict):
        return None
    ids = _values(filter.get("_id"))
    if ids is not None:
        return [store._documents[key] for key in dict.fromkeys(ids) if key in store._documents]
    index = _index_of(store)
    for field in index.keys if index else ():
        values = _values(filter.get(field))
        if values is not None:
            keys = set().union(*(index.keys[field].get(value, ()) for value in values))
            return [store._documents[key] for key in index.ordered(keys)]
    return None


def _narrows(store: Any, match: Any) -> bool:
    """Whether an aggregation's first `$match` looks up an indexed field (`_candidates` then answers it)."""
    if not isinstance(match, dict):
        return False
    return any(_values(match.get(field)) is not None for field in ("_id", *INDEXED.get(store.name, ())))
