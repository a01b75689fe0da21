"""The `referring_domains` collection: one row per (target domain, referring domain) with live link counts.

The profile job writes the rows of the domains it recomputes and reads the
others' back: authority runs on these rows (one per domain pair, however
many links), and a domain whose links did not change gets its top
referring domains re-ranked by this run's authority from its rows, without
reading a link. Users may query it too: it is the referring domains of
every profiled domain as of its last recompute.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pymongo import ASCENDING, DESCENDING

REFERRING = "referring_domains"


def ensure_indexes(database: Any) -> None:
    database[REFERRING].create_index([("target", ASCENDING), ("source", ASCENDING)], name="target_source")
    database[REFERRING].create_index([("source", ASCENDING), ("target", ASCENDING)], name="source_target")
    for count in ("links", "follow"):  # the explorer's referring domains, most links (or dofollow) first
        database[REFERRING].create_index(
            [("target", ASCENDING), (count, DESCENDING), ("source", ASCENDING)], name=f"target_{count}_source"
        )


def replace(database: Any, domains: list[str] | None, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Make the rows of `domains` (None: every domain) exactly `rows`, as `metrics.referring_domains` gives them."""
    database[REFERRING].delete_many({} if domains is None else {"target": {"$in": domains}})
    documents = [
        {"_id": f"{target} {row['domain']}", "target": target, "source": row["domain"],
         **{key: value for key, value in row.items() if key != "domain"}}
        for target, found in rows.items() for row in found
    ]  # fmt: skip
    if documents:
        database[REFERRING].insert_many(documents, ordered=False)


def of_domains(database: Any, domains: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The stored rows of `domains`, in the shape `metrics.referring_domains` gives (sorted by referring domain)."""
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    cursor = database[REFERRING].find({"target": {"$in": domains}}, sort=[("target", 1), ("source", 1)])
    for row in cursor:
        target, source = row.pop("target"), row.pop("source")
        row.pop("_id")
        result[target].append({"domain": source, **row})
    return result


def followed_edges(database: Any) -> list[tuple[str, str]]:
    """Every (referring domain, target domain) pair with at least one live dofollow link: authority's graph."""
    rows = database[REFERRING].find({"follow": {"$gt": 0}}, {"_id": 0, "source": 1, "target": 1})
    return [(row["source"], row["target"]) for row in rows]


def targets_linked_from(database: Any, sources: list[str]) -> list[str]:
    """The domains that `sources` link to (live), as of their last recompute."""
    return sorted(database[REFERRING].distinct("target", {"source": {"$in": sources}}))
