"""Equality indexes for the in-process emulation (mongomock), switched on by a benchmark while it runs.

mongomock tests every document of a collection against every filter, and
every aggregation starts by copying the whole collection: loading 25,000
links through the store takes six minutes (each page's propagation scans
every link) and a profile run over them three and a half, most of it
per-domain lookups reading all links. A server answers those from an index,
so the emulation's seconds would measure the emulation instead of the job.
Inside `indexed()`, a filter (or an aggregation's first `$match`) holding an
indexed field's value, or list of values (`$eq`, `$in`), or `_id` values,
reads only the documents with those values; mongomock still tests each of
them against the whole filter and runs the whole pipeline, so every answer
is unchanged. The indexed fields are set once per document (a link's
identity, a page's domain, a history entry's domain), so the index follows
inserts and deletes only.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from linkcrawler.internals import mongomock_private

INDEXED = {
    "links": ("target_domain", "source_url", "target_url"),
    "pages": ("domain",),
    "referring_domains": ("target", "source"),
    "profile_history": ("domain",),
}
"""Per collection, the fields a lookup can start from; each is set when the document is inserted and never after."""


@contextlib.contextmanager
def indexed() -> Iterator[None]:
    """Lookups by an indexed field read only the documents holding the value, for the duration (not reentrant)."""
    from mongomock.collection import Collection
    from mongomock.store import CollectionStore

    mongomock_private.patch()  # first: its own lookups by `_id` wrap these, not the other way round
    originals = (CollectionStore.__setitem__, CollectionStore.__delitem__, Collection._iter_documents,
                 Collection.aggregate)  # fmt: skip
    stores: list[Any] = []

    def setitem(store: Any, key: Any, document: Any) -> None:
        index = _index_of(store, stores)
        if index is not None:
            index.remove(key, store._documents.get(key), deleted=False)
            index.add(key, document)
        originals[0](store, key, document)

    def delitem(store: Any, key: Any) -> None:
        index = _index_of(store, stores)
        if index is not None:
            index.remove(key, store._documents.get(key), deleted=True)
        originals[1](store, key)

    def iter_documents(collection: Any, filter: Any) -> Any:
        found = _candidates(collection._store, filter, stores)
        if found is None:
            return originals[2](collection, filter)
        from mongomock.filtering import filter_applies

        return (document for document in found if filter_applies(filter, document))

    def aggregate(collection: Any, pipeline: list[dict[str, Any]], session: Any = None, **kwargs: Any) -> Any:
        from mongomock import aggregate as pipelines

        first = pipeline[0].get("$match") if pipeline else None
        narrowed = _narrowing_filter(collection._store, first)
        if narrowed is None:
            return originals[3](collection, pipeline, session, **kwargs)
        documents = list(collection.find(narrowed))
        return pipelines.process_pipeline(documents, collection.database, pipeline, session)

    CollectionStore.__setitem__, CollectionStore.__delitem__ = setitem, delitem
    Collection._iter_documents, Collection.aggregate = iter_documents, aggregate
    try:
        yield
    finally:
        (CollectionStore.__setitem__, CollectionStore.__delitem__, Collection._iter_documents,
         Collection.aggregate) = originals  # fmt: skip
        for store in stores:
            del store._emulated_index


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


def _index_of(store: Any, stores: list[Any]) -> _Index | None:
    """The store's index, built from its documents on first use (None for a collection without indexed fields)."""
    if store.name not in INDEXED:
        return None
    index = getattr(store, "_emulated_index", None)
    if index is None:
        index = _Index(INDEXED[store.name])
        for key, document in store._documents.items():
            index.add(key, document)
        store._emulated_index = index
        stores.append(store)
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


def _candidates(store: Any, filter: Any, stores: list[Any]) -> list[dict[str, Any]] | None:
    """The documents an index gives for `filter` (a superset of its matches), None when no index applies."""
    if not isinstance(filter, dict):
        return None
    ids = _values(filter.get("_id"))
    if ids is not None:
        return [store._documents[key] for key in dict.fromkeys(ids) if key in store._documents]
    index = _index_of(store, stores)
    for field in index.keys if index else ():
        values = _values(filter.get(field))
        if values is not None:
            keys = set().union(*(index.keys[field].get(value, ()) for value in values))
            return [store._documents[key] for key in index.ordered(keys)]
    return None


def _narrowing_filter(store: Any, match: Any) -> dict[str, Any] | None:
    """The indexed part of an aggregation's first `$match`, as a filter of its own; None when it has none."""
    if not isinstance(match, dict):
        return None
    for field in INDEXED.get(store.name, ()):
        values = _values(match.get(field))
        if values is not None:
            return {field: {"$in": values}}
    return None
