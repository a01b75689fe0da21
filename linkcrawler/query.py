"""Answers to the common questions about the link table, as small functions over a pymongo database.

    from linkcrawler.store.mongo import get_database
    from linkcrawler import query
    db = get_database("mongodb://127.0.0.1:27017/", "linkcrawler")
    query.backlinks(db, "example.com", follow=True, limit=20)
    query.backlinks(db, "https://example.com/pricing")      # one URL
    query.referring_domains(db, "example.com")
    query.anchors(db, "example.com")
    query.new_links(db, "example.com", since=datetime(2024, 5, 1, tzinfo=UTC))
    query.lost_links(db, "example.com", since=..., until=...)

A target is a URL (with a scheme) or a domain or host in any case; hosts
count for their registered domain. User input is only ever compared with
`$eq` as a plain string, never turned into an operator or a pattern: a
"domain" such as `{"$ne": null}` or `a.com$` matches nothing. Each helper
runs one query or aggregation on the server and returns at most `limit`
documents. The README shows the same queries in mongosh and pymongo.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from linkcrawler.errors import UserError
from linkcrawler.extract.urls import normalize_seed
from linkcrawler.profile.names import domain_of
from linkcrawler.profile.state import link_state_stages

LINK_FIELDS = {"_id": 0, "source_url": 1, "source_domain": 1, "target_url": 1, "anchor": 1, "link_type": 1,
               "follow": 1, "nofollow": 1, "ugc": 1, "sponsored": 1, "position": 1, "first_seen": 1,
               "last_seen": 1}  # fmt: skip


def target_filter(target: str) -> dict[str, Any]:
    """The literal filter on `links` for a URL (`target_url`) or a domain (`target_domain`)."""
    if not isinstance(target, str):
        raise TypeError(f"a target is a string, not {type(target).__name__}")
    text = target.strip()
    if "://" in text:
        return {"target_url": {"$eq": normalize_seed(text) or text}}
    return {"target_domain": {"$eq": _domain(text)}}


def _domain(text: str) -> str:
    """The registered domain of a host typed in any case; anything else stays as typed, so it matches nothing."""
    if any(char in text for char in "/?#@:\\"):
        return text
    try:
        return domain_of(text)
    except UserError:
        return text


def backlinks(
    db: Any,
    target: str,
    *,
    follow: bool | None = None,
    link_type: str | None = None,
    source_domain: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Stored backlinks of a domain or URL, newest first, optionally only (no)follow, one type, one source."""
    query = target_filter(target)
    if follow is not None:
        query["follow"] = {"$eq": bool(follow)}
    if link_type is not None:
        query["link_type"] = {"$eq": str(link_type)}
    if source_domain is not None:
        query["source_domain"] = {"$eq": _domain(str(source_domain))}
    cursor = db["links"].find(query, LINK_FIELDS, sort=[("first_seen", -1), ("source_url", 1)], limit=limit)
    return list(cursor)


def referring_domains(db: Any, target: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Domains linking to a domain or URL with their link and dofollow counts, most links first."""
    return _grouped(db, target, "$source_domain", "domain", limit)


def anchors(db: Any, target: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Anchor texts (exact, as stored) of links to a domain or URL, most links first."""
    return _grouped(db, target, "$anchor", "anchor", limit)


def _grouped(db: Any, target: str, key: str, name: str, limit: int) -> list[dict[str, Any]]:
    pipeline = [
        {"$match": target_filter(target)},
        {"$group": {"_id": key, "links": {"$sum": 1}, "dofollow": {"$sum": {"$cond": ["$follow", 1, 0]}}}},
        {"$sort": {"links": -1, "_id": 1}},
        {"$limit": limit},
    ]
    return [{name: row["_id"], "links": row["links"], "dofollow": row["dofollow"]} for row in
            db["links"].aggregate(pipeline, allowDiskUse=True)]  # fmt: skip


def new_links(
    db: Any, target: str, *, since: datetime, until: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Links first seen in [since, until), newest first."""
    window: dict[str, Any] = {"$gte": since} if until is None else {"$gte": since, "$lt": until}
    query = {**target_filter(target), "first_seen": window}
    return list(db["links"].find(query, LINK_FIELDS, sort=[("first_seen", -1), ("source_url", 1)], limit=limit))


def lost_links(
    db: Any, target: str, *, since: datetime, until: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Links lost in [since, until) by the rule of `linkcrawler.profile.state`, with `lost_at` and `reason`."""
    window: dict[str, Any] = {"$gte": since} if until is None else {"$gte": since, "$lt": until}
    pipeline = [
        {"$match": target_filter(target)},
        *link_state_stages(),
        {"$match": {"lost_at": window}},
        {"$sort": {"lost_at": -1, "source_url": 1}},
        {"$limit": limit},
        {"$project": {"_id": 0, "live": 0, "broken": 0}},
    ]
    return list(db["links"].aggregate(pipeline, allowDiskUse=True))
