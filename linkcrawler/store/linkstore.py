"""MongoDB storage: the `links` and `pages` collections, their indexes and batched upserts.

Every write is an unordered bulk of upserts keyed by a deterministic `_id`, so
writing the same observation twice never duplicates a document, batches can
be replayed from a journal in any order (first_seen takes `$min`, last_seen
and last_indexable `$max`), and two workers racing on one new link end with one document.
The schema is documented in the README; users query it directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne

LINK_IDENTITY = (
    "source_url", "source_host", "source_domain",
    "target_url", "target_host", "target_domain",
    "link_type", "anchor",
)  # fmt: skip
"""Fields set once, when a link is first stored: they make up (or derive from) its identity."""

LINK_INDEXES: list[tuple[str, list[tuple[str, int]]]] = [
    ("target_domain_source_domain", [("target_domain", ASCENDING), ("source_domain", ASCENDING)]),
    ("target_url", [("target_url", ASCENDING)]),
    ("source_url", [("source_url", ASCENDING)]),
    ("target_domain_first_seen", [("target_domain", ASCENDING), ("first_seen", DESCENDING)]),
]
"""Backlinks of a domain and its referring domains; backlinks of a URL; links from a page; new links."""

PAGE_INDEXES: list[tuple[str, list[tuple[str, int]]]] = [
    ("domain_status", [("domain", ASCENDING), ("status", ASCENDING)]),
    ("fetched_at", [("fetched_at", DESCENDING)]),
]


@dataclass
class WriteResult:
    links_upserted: int = 0
    links_updated: int = 0
    pages_written: int = 0
    round_trips: int = 0


class LinkStore:
    """Writes link and page documents (as built by `linkcrawler.store.documents`) to one database."""

    def __init__(self, database: Any) -> None:
        self.db = database
        self.links = database["links"]
        self.pages = database["pages"]

    def ensure_indexes(self) -> None:
        """Create the indexes if missing; safe to call from every worker at every start."""
        for name, keys in LINK_INDEXES:
            self.links.create_index(keys, name=name)
        for name, keys in PAGE_INDEXES:
            self.pages.create_index(keys, name=name)

    def write(self, links: Iterable[dict[str, Any]], pages: Iterable[dict[str, Any]]) -> WriteResult:
        """Upsert one batch: at most one round trip per collection."""
        result = WriteResult()
        link_ops = [_link_upsert(doc) for doc in _merge_repeats(links)]
        if link_ops:
            bulk = self.links.bulk_write(link_ops, ordered=False)
            result.links_upserted = bulk.upserted_count
            result.links_updated = bulk.matched_count
            result.round_trips += 1
        page_ops = [_page_upsert(doc) for doc in pages]
        if page_ops:
            bulk = self.pages.bulk_write(page_ops, ordered=False)
            result.pages_written = bulk.upserted_count + bulk.matched_count
            result.round_trips += 1
        return result


def _merge_repeats(links: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold observations of one link inside a batch into one, with its seen_count summed."""
    merged: dict[str, dict[str, Any]] = {}
    for doc in links:
        seen = merged.get(doc["_id"])
        if seen is None:
            merged[doc["_id"]] = dict(doc)
            continue
        count = seen["seen_count"] + doc["seen_count"]
        first, last = min(seen["first_seen"], doc["first_seen"]), max(seen["last_seen"], doc["last_seen"])
        indexable = max(filter(None, (seen.get("last_indexable"), doc.get("last_indexable"))), default=None)
        seen.update(doc, seen_count=count, first_seen=first, last_seen=last, last_indexable=indexable)
    return list(merged.values())


def _link_upsert(doc: dict[str, Any]) -> UpdateOne:
    identity = {key: doc[key] for key in LINK_IDENTITY}
    special = {"_id", "first_seen", "last_seen", "last_indexable", "seen_count", *LINK_IDENTITY}
    mutable = {key: value for key, value in doc.items() if key not in special}
    latest = {"last_seen": doc["last_seen"]}
    if doc.get("last_indexable") is not None:
        latest["last_indexable"] = doc["last_indexable"]
    return UpdateOne(
        {"_id": doc["_id"]},
        {
            "$setOnInsert": identity,
            "$set": mutable,
            "$min": {"first_seen": doc["first_seen"]},
            "$max": latest,
            "$inc": {"seen_count": doc["seen_count"]},
        },
        upsert=True,
    )


def _page_upsert(doc: dict[str, Any]) -> UpdateOne:
    fields = {key: value for key, value in doc.items() if key not in ("_id", "fetched_at")}
    return UpdateOne(
        {"_id": doc["_id"]},
        {
            "$set": fields,
            "$min": {"first_fetched": doc["fetched_at"]},
            "$max": {"fetched_at": doc["fetched_at"]},
            "$inc": {"fetch_count": 1},
        },
        upsert=True,
    )
