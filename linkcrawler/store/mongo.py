"""Where `MONGO_URI` points: a MongoDB database, or a journal on disk for crawls without one.

`mongodb://` and `mongodb+srv://` go to a real server through pymongo (TLS,
auth and replica sets through the URI, as pymongo reads it). `mongomock://`
is the in-process emulation used by tests and by the demo when no MongoDB is
configured: every `mongomock://` URI names one in-memory server per process,
so two clients of the same URI see the same data, as they would on a server.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pymongo
from pymongo.errors import ConfigurationError, InvalidURI, PyMongoError

from linkcrawler.errors import UserError, mask_uri
from linkcrawler.store.journal import Journal
from linkcrawler.store.linkstore import LinkStore

MONGO_SCHEMES = ("mongodb://", "mongodb+srv://", "mongomock://")
JOURNAL_SCHEME = "journal://"


def get_database(uri: str, database: str, *, check: bool = True, timeout_ms: int = 5000) -> Any:
    """A database handle for `uri`; with `check`, ping the server so an outage fails here, in one line."""
    if not uri.startswith(MONGO_SCHEMES):
        raise UserError(
            f"MONGO_URI {mask_uri(uri)!r} has an unsupported scheme; use mongodb://HOST/, "
            "mongodb+srv://HOST/ or mongomock:// (in-process emulation)"
        )
    if uri.startswith("mongomock://"):
        return _mongomock_client(uri)[database]
    try:
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True)
    except (ConfigurationError, InvalidURI, ValueError) as exc:
        raise UserError(f"MONGO_URI {mask_uri(uri)!r} is malformed: {mask_uri(str(exc))}") from None
    if check:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            raise UserError(
                f"cannot reach MongoDB at {mask_uri(uri)}: {mask_uri(str(exc)).splitlines()[0]}; "
                "start MongoDB or set MONGO_URI"
            ) from None
    return client[database]


@functools.cache
def _mongomock_client(uri: str) -> Any:
    import mongomock

    _patch_mongomock_bulk()
    _patch_mongomock_id_lookup()
    return mongomock.MongoClient(tz_aware=True)


def _patch_mongomock_bulk() -> None:
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


def _patch_mongomock_id_lookup() -> None:
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


def open_sink(uri: str, database: str) -> LinkStore | Journal:
    """`journal:///DIR` appends batches to files in DIR; anything else is a MongoDB URI.

    A MongoDB sink has its indexes ensured here, once per process.
    """
    if uri.startswith(JOURNAL_SCHEME):
        return Journal(Path(uri.removeprefix(JOURNAL_SCHEME) or "journal"))
    store = LinkStore(get_database(uri, database))
    store.ensure_indexes()
    return store
