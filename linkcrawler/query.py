"""Answers to the common questions about the link table, as small functions over a pymongo database.

    from linkcrawler.store.mongo import get_database
    from linkcrawler import query
    db = get_database("mongodb://127.0.0.1:27017/", "linkcrawler")
    query.backlinks(db, "example.com", follow=True, limit=20)   # live ones; live_only=False adds the lost
    query.backlinks(db, "https://example.com/pricing")      # one URL
    query.referring_domains(db, "example.com")
    query.anchors(db, "example.com")
    query.new_links(db, "example.com", since=datetime(2024, 5, 1, tzinfo=UTC))
    query.lost_links(db, "example.com", since=..., until=...)
    query.intersect(db, ["rival-a.com", "rival-b.com"], exclude=["mine.com"])

A target is a URL (with a scheme) or a domain or host in any case; hosts
count for their registered domain. User input is only ever compared with
`$eq` as a plain string, never turned into an operator or a pattern: a
"domain" such as `{"$ne": null}` or `a.com$` matches nothing. Each helper
runs one query or aggregation on the server and returns at most `limit`
documents. docs/data/queries.md shows the same queries in mongosh and pymongo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.errors import UserError
from linkcrawler.extract.links import LINK_TYPES, POSITIONS
from linkcrawler.extract.urls import normalize_seed
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.names import domain_of

LINK_FIELDS = {"_id": 0, "source_url": 1, "source_domain": 1, "target_url": 1, "anchor": 1, "link_type": 1,
               "follow": 1, "nofollow": 1, "ugc": 1, "sponsored": 1, "position": 1, "first_seen": 1,
               "last_seen": 1, "live": 1}  # fmt: skip


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


@dataclass(frozen=True)
class LinkFilters:
    """Which links of a domain a question is about; None means any.

    `anchor_contains` is a case-insensitive substring, matched as literal
    text (escaped, never a pattern). `link_type` and `position` must be known
    values, so a typo is an error rather than an empty answer.
    """

    follow: bool | None = None
    link_type: str | None = None
    position: str | None = None
    anchor_contains: str | None = None
    source_domain: str | None = None

    def __post_init__(self) -> None:
        for name, value, known in (("link type", self.link_type, LINK_TYPES), ("position", self.position, POSITIONS)):
            if value is not None and value not in known:
                raise UserError(f"unknown {name} {value!r}: use one of {', '.join(known)}")

    def match(self) -> dict[str, Any]:
        """The `$match` conditions on `links` fields."""
        query: dict[str, Any] = {}
        if self.follow is not None:
            query["follow"] = {"$eq": bool(self.follow)}
        if self.link_type is not None:
            query["link_type"] = {"$eq": self.link_type}
        if self.position is not None:
            query["position"] = {"$eq": self.position}
        if self.anchor_contains:
            query["anchor"] = {"$regex": re.escape(self.anchor_contains), "$options": "i"}
        if self.source_domain is not None:
            query["source_domain"] = {"$eq": _domain(str(self.source_domain))}
        return query


def backlinks(
    db: Any,
    target: str,
    *,
    follow: bool | None = None,
    link_type: str | None = None,
    source_domain: str | None = None,
    live_only: bool = True,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Backlinks of a domain or URL, newest first: live ones (lost ones too with `live_only=False`), optionally
    only (no)follow, one type, one source."""
    filters = LinkFilters(follow=follow, link_type=link_type, source_domain=source_domain)
    query = {**target_filter(target), **filters.match(), **({"live": True} if live_only else {})}
    cursor = db["links"].find(query, LINK_FIELDS, sort=[("first_seen", -1), ("source_url", 1)], limit=limit)
    return list(cursor)


def referring_domains(db: Any, target: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Domains linking to a domain or URL with their live link and dofollow counts, most links first."""
    return _grouped(db, target, "$source_domain", "domain", limit)


def anchors(db: Any, target: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Anchor texts (exact, as stored) of live links to a domain or URL, most links first."""
    return _grouped(db, target, "$anchor", "anchor", limit)


def _grouped(db: Any, target: str, key: str, name: str, limit: int) -> list[dict[str, Any]]:
    pipeline = [
        {"$match": {**target_filter(target), "live": True}},
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
    """Links lost in [since, until) (see `linkcrawler.store.state`), with `lost_at` and `reason`, latest first."""
    window: dict[str, Any] = {"$gte": since} if until is None else {"$gte": since, "$lt": until}
    query = {**target_filter(target), "lost_at": window}
    fields = {**LINK_FIELDS, "lost_at": 1, "lost_reason": 1, "target_status": 1}
    rows = db["links"].find(query, fields, sort=[("lost_at", -1), ("source_url", 1)], limit=limit)
    return [{**row, "reason": row.pop("lost_reason", None)} for row in rows]


def link_stages(query: dict[str, Any]) -> list[dict[str, Any]]:
    """Stages choosing the external links matching `query`, each with its state under the names exports use."""
    return [{"$match": {**query, "internal": {"$ne": True}}}, {"$addFields": {"reason": "$lost_reason"}}]


def authority_stages() -> list[dict[str, Any]]:
    """Stages adding `authority` to grouped rows whose `_id` is a domain: its profile's, 0 without one."""
    return [
        {"$lookup": {"from": PROFILES, "localField": "_id", "foreignField": "_id", "as": "profile"}},
        {"$addFields": {"authority": {"$ifNull": [{"$arrayElemAt": ["$profile.authority", 0]}, 0.0]}}},
        {"$project": {"profile": 0}},
    ]


def intersect(
    db: Any,
    competitors: list[str],
    *,
    exclude: Sequence[str] = (),
    min_count: int | None = None,
    follow: bool | None = None,
    limit: int | None = 100,
) -> list[dict[str, Any]]:
    """Referring domains with live links to at least `min_count` competitors (default: all) and none to `exclude`.

    Ranked by how many competitors they link to, then by authority, then by
    name. Each row: `domain`, `count`, `authority`, `links` (to the
    competitors), and `competitors`: for each competitor it links to, the
    number of links and the first linking URL (in URL order). `limit` None
    returns every row.
    """
    pipeline = [
        *intersect_stages(competitors, exclude=exclude, min_count=min_count, follow=follow),
        {"$sort": dict(INTERSECT_ORDER)},
        *([] if limit is None else [{"$limit": limit}]),
    ]
    return [intersect_row(row) for row in db["links"].aggregate(pipeline, allowDiskUse=True)]


INTERSECT_ORDER = [("count", -1), ("authority", -1), ("_id", 1)]
"""The order of `intersect`'s rows: most competitors, then authority, then the referring domain's name."""


def intersect_stages(
    competitors: list[str], *, exclude: Sequence[str] = (), min_count: int | None = None, follow: bool | None = None
) -> list[dict[str, Any]]:
    """`intersect`'s rows, unsorted (`_id` is the referring domain; `intersect_row` names it).

    One aggregation: live links to all the domains are grouped by
    (referring domain, target), then by referring domain, so no group holds
    more entries than there are domains asked about.
    """
    rivals = sorted({domain_of(name) for name in competitors})
    mine = sorted({domain_of(name) for name in exclude})
    if not rivals:
        raise UserError("intersect needs at least one competitor domain")
    if set(rivals) & set(mine):
        raise UserError(f"{', '.join(sorted(set(rivals) & set(mine)))} is both a competitor and excluded")
    wanted = len(rivals) if min_count is None else min_count
    if not 1 <= wanted <= len(rivals):
        raise UserError(f"--min must be between 1 and the number of competitors ({len(rivals)}), not {wanted}")
    query = {"target_domain": {"$in": rivals + mine}, "source_domain": {"$nin": mine}}
    query.update(LinkFilters(follow=follow).match())
    return [
        *link_stages({**query, "live": True}),
        {"$group": {"_id": {"s": "$source_domain", "t": "$target_domain"}, "links": {"$sum": 1},
                    "url": {"$min": "$source_url"}}},
        {"$sort": {"_id.t": 1}},
        {"$group": {"_id": "$_id.s", "links": {"$sum": "$links"},
                    "competitors": {"$push": {"domain": "$_id.t", "links": "$links", "url": "$url"}}}},
        {"$match": {"competitors.domain": {"$nin": mine}}},
        {"$addFields": {"count": {"$size": "$competitors"}}},
        {"$match": {"count": {"$gte": wanted}}},
        *authority_stages(),
    ]  # fmt: skip


def intersect_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row of `intersect_stages` as `intersect` returns it."""
    return {"domain": row["_id"], "count": row["count"], "authority": row["authority"], "links": row["links"],
            "competitors": row["competitors"]}  # fmt: skip
