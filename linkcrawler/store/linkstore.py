"""MongoDB storage: the `links` and `pages` collections, their indexes and batched upserts.

Every write is an unordered bulk of upserts keyed by a deterministic `_id`,
each an update pipeline (`state`) that merges one fetch's observation with
what is stored: writing the same observation twice, replaying batches in any
order, or two workers racing on one new link all end with the same
documents. A batch also keeps each link's state (live or lost, broken) as
the fetches it holds change it: four round trips, in the order
docs/link-state.md explains. The schema is documented in docs/data/schema.md;
users query it directly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateMany, UpdateOne

from linkcrawler.store import schema, state

LINK_IDENTITY = (
    "source_url", "source_host", "source_domain",
    "target_url", "target_host", "target_domain",
    "link_type", "anchor",
)  # fmt: skip
"""Fields set once, when a link is first stored: they make up (or derive from) its identity."""

LINK_INDEXES: list[tuple[str, list[tuple[str, int]]]] = [
    ("target_domain_live_source_domain",
     [("target_domain", ASCENDING), ("live", ASCENDING), ("source_domain", ASCENDING)]),
    ("target_url_target_fetched_at", [("target_url", ASCENDING), ("target_fetched_at", ASCENDING)]),
    ("source_url", [("source_url", ASCENDING)]),
    ("source_domain_live", [("source_domain", ASCENDING), ("live", ASCENDING)]),
    ("target_domain_first_seen", [("target_domain", ASCENDING), ("first_seen", DESCENDING)]),
    ("target_domain_lost_at", [("target_domain", ASCENDING), ("lost_at", DESCENDING)]),
    ("changed_at_target_domain", [("changed_at", ASCENDING), ("target_domain", ASCENDING)]),
]  # fmt: skip
"""A domain's live (or lost) backlinks and referring domains; backlinks of a URL, and those a fetch of it has not
reached yet; links from a page, and a domain's outgoing links; new links; lost links; what changed since the
profile job's last run."""

PAGE_STATE_FIELDS = {"url": 1, "fetched_at": 1, "fetches": 1, "status": 1, "robots": 1, "canonical": 1,
                     "external_outlinks": 1}  # fmt: skip
"""What a link needs to know of its source or target page."""

PAGE_INDEXES: list[tuple[str, list[tuple[str, int]]]] = [
    ("domain_status", [("domain", ASCENDING), ("status", ASCENDING)]),
    ("fetched_at", [("fetched_at", DESCENDING)]),
    ("created_at_domain", [("created_at", ASCENDING), ("domain", ASCENDING)]),
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
        """Create the indexes if missing, and mark a new database with the current schema; safe at every start."""
        for name, keys in LINK_INDEXES:
            self.links.create_index(keys, name=name)
        for name, keys in PAGE_INDEXES:
            self.pages.create_index(keys, name=name)
        if schema.version(self.db) == 0:
            schema.mark_current(self.db)

    def write(self, links: Iterable[dict[str, Any]], pages: Iterable[dict[str, Any]]) -> WriteResult:
        """Upsert one batch and keep the state of the links its fetches change: at most four round trips."""
        links, pages = _distinct(links), _distinct(pages)
        result = WriteResult()
        if pages:
            bulk = self.pages.bulk_write([UpdateOne({"_id": p["_id"]}, state.page_observed(p), upsert=True)
                                          for p in pages], ordered=False)  # fmt: skip
            result.pages_written = bulk.upserted_count + bulk.matched_count
            result.round_trips += 1
        if links:
            fetches = {(p["_id"], p["fetched_at"]): state.SourceFetch.of_page(p) for p in pages}
            ops = [_link_upsert(doc, fetches.get((doc["source_url"], doc["last_seen"]))) for doc in links]
            bulk = self.links.bulk_write(ops, ordered=False)
            result.links_upserted = bulk.upserted_count
            result.links_updated = bulk.matched_count
            result.round_trips += 1
        result.round_trips += self._propagate(links, pages)
        return result

    def _propagate(self, links: list[dict[str, Any]], pages: list[dict[str, Any]]) -> int:
        """Tell links about the latest fetch of the batch's pages and of its links' targets; round trips made.

        Read after this batch's own writes, the stored pages are at least as
        new as the batch: a batch replayed after a newer one spreads the newer
        fetch, and of two writers racing on a page the one reading second
        spreads the other's.
        """
        sources = {p["_id"] for p in pages}
        targets: dict[str, list[str]] = defaultdict(list)
        for doc in links:
            if doc["target_url"] not in sources:
                targets[doc["target_url"]].append(doc["_id"])
        if not sources and not targets:
            return 0
        wanted = sorted(sources | set(targets))
        stored = {p["_id"]: p for p in self.pages.find({"_id": {"$in": wanted}}, PAGE_STATE_FIELDS)}
        ops: list[UpdateMany] = []
        for url in sorted(sources & set(stored)):
            page = stored[url]
            fetch = state.SourceFetch.of_page(page)
            at = page["fetched_at"]
            ops.append(UpdateMany({"source_url": url, "last_seen": {"$lt": at}}, state.source_fetched(fetch)))
            ops.append(target_update({"target_url": url}, page))
        for url, ids in sorted(targets.items()):
            if url in stored:
                ops.append(target_update({"_id": {"$in": ids}}, stored[url]))
        if ops:
            self.links.bulk_write(ops, ordered=False)
        return 1 + bool(ops)


def _distinct(documents: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One document per observation: the same `_id` seen at the same time (a page's repeated link, a batch
    written twice) is one observation."""
    seen: dict[tuple[str, datetime], dict[str, Any]] = {}
    for doc in documents:
        at = doc.get("fetched_at") or doc.get("last_seen")
        seen.setdefault((doc["_id"], at), doc)
    return list(seen.values())


def _link_upsert(doc: dict[str, Any], fetch: state.SourceFetch | None) -> UpdateOne:
    """The upsert of one observed link; without its page in the batch, the page counts as fine and indexable."""
    source = fetch or state.SourceFetch(doc["last_seen"], None, False, False, 0)
    return UpdateOne({"_id": doc["_id"]}, state.link_observed(doc, LINK_IDENTITY, source), upsert=True)


def target_update(where: dict[str, Any], page: dict[str, Any]) -> UpdateMany:
    """Tell the links `where` chooses about their target page's latest fetch (if they have not heard of it)."""
    at = page["fetched_at"]
    return UpdateMany({**where, **state.not_fetched_since("target_fetched_at", at)},
                      state.target_fetched(at, page.get("status")))  # fmt: skip
