"""The history collection: headline numbers of every domain at every summarize run, for trends.

A run is identified by `data_as_of`, the latest page fetch the run saw, not
by the wall clock: summarizing the same data twice rewrites the same history
entry (the job is idempotent), and "new" and "lost" are measured against the
previous entry with older data, the previous run that had something to see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne

HISTORY = "profile_history"
PROFILES = "domain_profiles"
"""The profiles themselves (one per domain, written by `job`), named here so readers need not import the job."""


def ensure_indexes(database: Any) -> None:
    """A domain's runs; and profiles by authority, the order the explorer's home lists them in (its first 100
    rows, read from this index instead of sorting every profile)."""
    database[HISTORY].create_index([("domain", ASCENDING), ("data_as_of", DESCENDING)], name="domain_data_as_of")
    database[PROFILES].create_index([("authority", DESCENDING), ("_id", ASCENDING)], name="authority")


def baselines(database: Any, domains: list[str], data_as_of: datetime) -> dict[str, datetime | None]:
    """Each domain's `data_as_of` of its previous run on older data, None on its first run: one aggregation.

    The `$sort` on the index's own order followed by `$group` with `$first`
    lets a server answer from `domain_data_as_of` alone, one index entry per
    domain, however many runs the history holds.
    """
    found: dict[str, datetime | None] = dict.fromkeys(domains)
    pipeline = [
        {"$match": {"domain": {"$in": domains}, "data_as_of": {"$lt": data_as_of}}},
        {"$sort": {"domain": ASCENDING, "data_as_of": DESCENDING}},
        {"$group": {"_id": "$domain", "data_as_of": {"$first": "$data_as_of"}}},
    ]
    found |= {row["_id"]: row["data_as_of"] for row in database[HISTORY].aggregate(pipeline)}
    return found


def entry(profile: dict[str, Any]) -> UpdateOne:
    """The history write of one profile: one entry per (domain, data_as_of)."""
    numbers = headline(profile)
    key = f"{profile['domain']} {profile['data_as_of'].isoformat()}"
    document = {"domain": profile["domain"], "data_as_of": profile["data_as_of"],
                "computed_at": profile["computed_at"], **numbers}  # fmt: skip
    return UpdateOne({"_id": key}, {"$set": document}, upsert=True)


def headline(profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "backlinks": profile["backlinks"]["live"],
        "referring_domains": profile["referring"]["domains"],
        "dofollow": profile["backlinks"]["dofollow"],
        "nofollow": profile["backlinks"]["not_followed"],
        "new": profile["new"]["count"],
        "lost": profile["lost"]["count"],
        "broken": profile["broken"]["count"],
        "authority": profile["authority"],
    }


def runs(database: Any, domain: str, limit: int = 50) -> list[dict[str, Any]]:
    """The domain's history, oldest first (at most the `limit` latest runs)."""
    latest = database[HISTORY].find({"domain": domain}, sort=[("data_as_of", DESCENDING)], limit=limit)
    return list(reversed(list(latest)))
