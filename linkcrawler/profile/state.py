"""The state of every stored external link at summarize time, computed by the server.

A link is *lost* when its source page was fetched after the link's
last_seen (the page was crawled again and the link was not on it); that
covers a page that now fails (4xx/5xx) or redirects elsewhere, which is
recorded as the reason. It is lost too when the page, indexable when it
last carried the link (`last_indexable`), is now noindex (meta robots or
X-Robots-Tag) or declares a canonical URL other than its own: the link is
still there but no longer counts for search engines (noindex is the rule
of `linkcrawler.extract.directives.is_noindex`, written as an expression).
`lost_at` is that later fetch. Reasons, first that applies: source_failed,
source_redirected, source_noindex, source_canonicalized, link_removed. A
link is *broken* when its target URL was fetched and answered 4xx/5xx.
Both come from `$lookup`s of the `pages` collection, so links never travel
to Python: the pipeline writes one small document per link to a scratch
collection with `$out` (emulated by mongomock, unlike `$merge`) that the
metric pipelines then group.
"""

from __future__ import annotations

from typing import Any

SCRATCH_PREFIX = "profile_scratch_"
"""Scratch collections are named with this prefix and a run id; left-overs of a crashed run are dropped."""


def link_state_pipeline(scratch: str) -> list[dict[str, Any]]:
    """Links -> scratch: identity fields plus live, lost_at, reason, broken, target_status, source_outlinks."""
    return [{"$match": {"internal": {"$ne": True}}}, *link_state_stages(), {"$out": scratch}]


def link_state_stages() -> list[dict[str, Any]]:
    """The stages that give each link document its state (see the module docstring)."""
    source_fetched = {"$ifNull": ["$src.fetched_at", "$last_seen"]}
    source_status = {"$ifNull": ["$src.status", 200]}
    robots = {"$ifNull": ["$src.robots", []]}
    noindex = {"$or": [{"$in": ["noindex", robots]}, {"$in": ["none", robots]}]}
    canonical = {"$ifNull": ["$src.canonical", None]}
    elsewhere = {"$and": [{"$ne": [canonical, None]}, {"$ne": [canonical, "$source_url"]}]}
    was_indexable = {"$ne": [{"$ifNull": ["$last_indexable", None]}, None]}
    unindexed = {"$and": [was_indexable, {"$gt": [source_fetched, "$last_indexable"]}, {"$or": [noindex, elsewhere]}]}
    lost = {"$or": [{"$gt": [source_fetched, "$last_seen"]}, unindexed]}
    return [
        {"$lookup": {"from": "pages", "localField": "source_url", "foreignField": "_id", "as": "src"}},
        {"$lookup": {"from": "pages", "localField": "target_url", "foreignField": "_id", "as": "tgt"}},
        {"$unwind": {"path": "$src", "preserveNullAndEmptyArrays": True}},
        {"$unwind": {"path": "$tgt", "preserveNullAndEmptyArrays": True}},
        {
            "$project": {
                "source_url": 1,
                "source_host": 1,
                "source_domain": 1,
                "source_ip": 1,
                "source_subnet": 1,
                "target_url": 1,
                "target_domain": 1,
                "anchor": 1,
                "link_type": 1,
                "position": 1,
                "follow": 1,
                "nofollow": 1,
                "ugc": 1,
                "sponsored": 1,
                "first_seen": 1,
                "last_seen": 1,
                "live": {"$cond": [lost, False, True]},
                "lost_at": {"$cond": [lost, source_fetched, None]},
                "reason": {
                    "$cond": [
                        lost,
                        {
                            "$switch": {
                                "branches": [
                                    {"case": {"$gte": [source_status, 400]}, "then": "source_failed"},
                                    {"case": {"$gte": [source_status, 300]}, "then": "source_redirected"},
                                    {"case": {"$and": [unindexed, noindex]}, "then": "source_noindex"},
                                    {"case": unindexed, "then": "source_canonicalized"},
                                ],
                                "default": "link_removed",
                            }
                        },
                        None,
                    ]
                },
                "target_status": {"$ifNull": ["$tgt.status", None]},
                "source_outlinks": {"$ifNull": ["$src.external_outlinks", 0]},
                "broken": {"$cond": [{"$gte": [{"$ifNull": ["$tgt.status", 0]}, 400]}, True, False]},
            }
        },
    ]
