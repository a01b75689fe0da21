"""Bring a database written by schema version 1 up to the current schema (`schema.CURRENT`), once.

Version 1 stored links without their state: it was computed at read time by
joining every link with its source and target pages. The upgrade tells every
link about its source and target pages' latest fetches with the store's
own propagation, a thousand pages a round trip, and seeds the fetch-time
windows so a batch written under version 1 and replayed afterwards is not counted
twice. It can be interrupted and run again; the version is written last.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymongo import UpdateMany

from linkcrawler.store import schema, state
from linkcrawler.store.linkstore import PAGE_STATE_FIELDS, LinkStore, target_update

PAGES_PER_ROUND_TRIP = 1000
REPLACED_INDEXES = ("target_url", "target_domain_source_domain")
"""Version 1's indexes on `links` that are now the prefix of one of `LINK_INDEXES`."""


def needs_upgrade(database: Any) -> bool:
    return schema.version(database) == 1


def upgrade(database: Any) -> int:
    """Give every stored link its state; the number of pages whose links were told. Idempotent."""
    store = LinkStore(database)
    store.ensure_indexes()
    for name in set(database["links"].index_information()) & set(REPLACED_INDEXES):
        database["links"].drop_index(name)
    database["pages"].update_many({"fetches": {"$exists": False}}, [{"$set": {"fetches": ["$fetched_at"]}}])
    database["links"].update_many({"seen_at": {"$exists": False}}, [{"$set": {"seen_at": ["$last_seen"]}}])
    told = 0
    for pages in _chunks(database["pages"].find({}, PAGE_STATE_FIELDS, sort=[("_id", 1)])):
        ops: list[UpdateMany] = []
        for page in pages:
            ops.append(UpdateMany({"source_url": page["_id"]}, state.source_fetched(state.SourceFetch.of_page(page))))
            ops.append(target_update({"target_url": page["_id"]}, page))
        database["links"].bulk_write(ops, ordered=False)
        told += len(pages)
    database["links"].update_many({"live": {"$exists": False}}, state.never_refetched())
    schema.mark_current(database)
    return told


def _chunks(cursor: Any) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for page in cursor:
        chunk.append(page)
        if len(chunk) == PAGES_PER_ROUND_TRIP:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
