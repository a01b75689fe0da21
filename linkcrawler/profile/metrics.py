"""Metric pipelines over the `links` collection, grouped by target domain.

Each function runs one aggregation (`allowDiskUse`) for all the chosen
domains at once and returns small per-domain results; none reads link
documents into Python. Every pipeline starts with a `$match` on the state
each link carries (`live`, `broken`, `lost_at`: see
`linkcrawler.store.state`) and the chosen domains, answered from the
`{target_domain, live, source_domain}` index. Only forms both MongoDB and
mongomock run are used: `$group` + `$sort` instead of `$sortByCount`, no
`$merge`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

LIVE = "live"

FLAG_FIELDS = ("follow", "nofollow", "ugc", "sponsored")

CHANGE_FIELDS = {"_id": 0} | dict.fromkeys(
    ("source_url", "source_domain", "target_url", "anchor", "link_type", "follow", "first_seen",
     "lost_at", "lost_reason", "target_status"),
    1,
)  # fmt: skip
"""What a listed new, lost or broken link carries."""


def aggregate(links: Any, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run a pipeline over `links`; disk use allowed, as a crawl's links outgrow a stage's memory."""
    return list(links.aggregate(pipeline, allowDiskUse=True))


def link_query(domains: list[str] | None, live_only: bool, **extra: Any) -> dict[str, Any]:
    """The filter choosing the external links to `domains` (every domain when None), live ones only if asked."""
    query: dict[str, Any] = {"internal": {"$ne": True}, **extra}
    if domains is not None:
        query["target_domain"] = {"$in": domains}
    if live_only:
        query[LIVE] = True
    return query


def match_links(domains: list[str] | None, live_only: bool, **extra: Any) -> list[dict[str, Any]]:
    """The `$match` stage a metric pipeline starts with (see `link_query`)."""
    return [{"$match": link_query(domains, live_only, **extra)}]


def _count_if(condition: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def link_counts(links: Any, domains: list[str] | None) -> dict[str, dict[str, int]]:
    """Per domain: all-time and live backlinks; live ones that follow, carry each rel flag, are broken."""
    live = {"$eq": ["$live", True]}

    def live_and(field: str) -> dict[str, Any]:
        return _count_if({"$and": [live, {"$eq": [f"${field}", True]}]})

    group = {
        "_id": "$target_domain",
        "all_time": {"$sum": 1},
        "live": _count_if(live),
        "dofollow": live_and("follow"),
        "nofollow": live_and("nofollow"),
        "ugc": live_and("ugc"),
        "sponsored": live_and("sponsored"),
        "not_followed": _count_if({"$and": [live, {"$ne": ["$follow", True]}]}),
        "broken": live_and("broken"),
    }
    rows = aggregate(links, [*match_links(domains, False), {"$group": group}])
    return {row.pop("_id"): row for row in rows}


def breakdown(links: Any, domains: list[str] | None, field: str) -> dict[str, dict[str, int]]:
    """Per domain: live links counted by the value of `field` (link_type, position)."""
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {"$group": {"_id": {"d": "$target_domain", "v": f"${field}"}, "n": {"$sum": 1}}},
        ],
    )
    result: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        result[row["_id"]["d"]][str(row["_id"]["v"])] = row["n"]
    return result


def referring_pages(links: Any, domains: list[str] | None) -> dict[str, int]:
    """Per domain: distinct source URLs of its live backlinks."""
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {"$group": {"_id": {"d": "$target_domain", "v": "$source_url"}}},
            {"$group": {"_id": "$_id.d", "n": {"$sum": 1}}},
        ],
    )
    return {row["_id"]: row["n"] for row in rows}


def referring_hosts(links: Any, domains: list[str] | None) -> dict[str, dict[str, int]]:
    """Per domain: distinct source hosts, IPs and subnets of its live backlinks, in one pass.

    Grouping by (domain, host, IP) first keeps the sets of the second stage
    as small as the number of referring hosts, whatever the number of links.
    """
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {
                "$group": {
                    "_id": {"d": "$target_domain", "h": "$source_host", "i": "$source_ip"},
                    "s": {"$first": "$source_subnet"},
                }
            },
            {
                "$group": {
                    "_id": "$_id.d",
                    "hosts": {"$addToSet": "$_id.h"},
                    "ips": {"$addToSet": "$_id.i"},
                    "subnets": {"$addToSet": "$s"},
                }
            },
        ],
    )
    return {row["_id"]: {key: len([v for v in row[key] if v]) for key in ("hosts", "ips", "subnets")} for row in rows}


def changed_links(
    links: Any, domains: list[str] | None, field: str, since: datetime | None, limit: int, **extra: Any
) -> dict[str, dict[str, Any]]:
    """Per domain: how many links have `field` (first_seen, lost_at, ...) after `since`, and the latest `limit`.

    Counts come from one grouped pass; the lists from one indexed `find`
    per domain that has any, because pushing every link of a big domain
    into one group would hit the server's memory limit for `$push`.
    """
    when = {"$ne": None} if since is None else {"$gt": since}
    query = {field: when, **extra}
    rows = aggregate(
        links, [*match_links(domains, False, **query), {"$group": {"_id": "$target_domain", "n": {"$sum": 1}}}]
    )
    result = {}
    for row in rows:
        listed = links.find(
            link_query([row["_id"]], False, **query),
            CHANGE_FIELDS,
            sort=[(field, -1), ("source_url", 1), ("target_url", 1), ("anchor", 1)],
            limit=limit,
        )
        result[row["_id"]] = {"count": row["n"], "links": [_with_reason(link) for link in listed]}
    return result


def _with_reason(link: dict[str, Any]) -> dict[str, Any]:
    """A listed link as profiles show it: the lost reason under `reason`."""
    link["reason"] = link.pop("lost_reason", None)
    return link


def referring_domains(links: Any, domains: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """Per domain: each referring domain with its live link count and per-flag counts."""
    group: dict[str, Any] = {"_id": {"d": "$target_domain", "s": "$source_domain"}, "links": {"$sum": 1}}
    for flag in FLAG_FIELDS:
        group[flag] = _count_if({"$eq": [f"${flag}", True]})
    rows = aggregate(links, [*match_links(domains, True), {"$group": group}, {"$sort": {"_id.d": 1, "_id.s": 1}}])
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = row.pop("_id")
        result[key["d"]].append({"domain": key["s"], **row})
    return result


def top_pages(links: Any, domains: list[str] | None, limit: int) -> dict[str, list[dict[str, Any]]]:
    """Per domain: its pages with the most referring domains (then most backlinks, then URL), at most `limit`."""
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {"$group": {"_id": {"d": "$target_domain", "u": "$target_url", "s": "$source_domain"}, "n": {"$sum": 1}}},
            {
                "$group": {
                    "_id": {"d": "$_id.d", "u": "$_id.u"},
                    "referring_domains": {"$sum": 1},
                    "backlinks": {"$sum": "$n"},
                }
            },
            {"$sort": {"_id.d": 1, "referring_domains": -1, "backlinks": -1, "_id.u": 1}},
            {
                "$group": {
                    "_id": "$_id.d",
                    "pages": {
                        "$push": {"url": "$_id.u", "referring_domains": "$referring_domains", "backlinks": "$backlinks"}
                    },
                }
            },
            {"$project": {"pages": {"$slice": ["$pages", limit]}}},
        ],
    )
    return {row["_id"]: row["pages"] for row in rows}


def anchor_rows(links: Any, domains: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """Per domain: each exact anchor with its live link count and the referring domains using it.

    Case folding happens in Python (`anchors.fold`): MongoDB's `$toLower`
    folds ASCII only, and anchors are any language.
    """
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {
                "$group": {
                    "_id": {"d": "$target_domain", "a": "$anchor"},
                    "links": {"$sum": 1},
                    "sources": {"$addToSet": "$source_domain"},
                }
            },
        ],
    )
    result: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        anchor = row["_id"]["a"] or ""
        result[row["_id"]["d"]].append({"anchor": anchor, "links": row["links"], "sources": row["sources"]})
    return result


def domain_edges(links: Any) -> list[tuple[str, str]]:
    """Every (source domain, target domain) pair joined by at least one live dofollow link."""
    rows = aggregate(
        links,
        [
            *match_links(None, True, follow=True),
            {"$group": {"_id": {"s": "$source_domain", "d": "$target_domain"}}},
        ],
    )
    return [(row["_id"]["s"], row["_id"]["d"]) for row in rows if row["_id"]["s"] and row["_id"]["d"]]
