"""Each link's state, kept by the store as update pipelines over the fields it keeps (see docs/link-state.md).

A link is *lost* when its source page's latest fetch did not carry it, or
when the page carried it on an indexable fetch and is now noindex or
canonical elsewhere; *broken* when its target URL's latest fetch answered
4xx/5xx. Every input of that rule is merged as a minimum, a maximum, or "the
values of the fetch with the latest time", so the order in which fetches
reach the store does not matter, and neither does a batch written twice. The
pipelines only use expressions MongoDB and mongomock both evaluate (no
`$unset` stage, no `$reduce`, no `$sortArray`).

`seen_at` (on links) and `fetches` (on pages) hold the newest `WINDOW`
distinct fetch times, newest first: a fetch already among them is not
counted again, and one older than all of a full window is not counted at
all (it cannot be told from one that was).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.extract.directives import is_noindex

WINDOW = 8
"""Distinct fetch times a link (`seen_at`) or a page (`fetches`) remembers."""

EPOCH = datetime(1970, 1, 1)
"""Stands for "never" where a comparison needs a date."""

LOST_REASONS = ("source_failed", "source_redirected", "source_noindex", "source_canonicalized", "link_removed")

MUTABLE_LINK_FIELDS = ("source_ip", "source_subnet", "nofollow", "ugc", "sponsored", "follow", "position", "internal")
"""Fields a later fetch may see differently: the latest fetch that carried the link wins."""

WATCHED = ("live", "lost_at", "lost_reason", "broken", "target_status", "source_outlinks", *MUTABLE_LINK_FIELDS)
"""Fields whose change stamps `changed_at`: what a profile counts or lists."""


@dataclass(frozen=True)
class SourceFetch:
    """What one fetch of a page found, as the links it carries (or no longer carries) need it."""

    fetched_at: datetime
    status: int | None
    noindex: bool
    canonicalized: bool
    outlinks: int
    fetches: tuple[datetime, ...] = ()
    """The page's newest fetch times known (newest first): where a lost link's `lost_at` is found."""

    @classmethod
    def of_page(cls, page: dict[str, Any]) -> SourceFetch:
        """From a `pages` document, as `documents.page_document` builds it or as stored."""
        canonical = page.get("canonical")
        return cls(
            fetched_at=page["fetched_at"],
            status=page.get("status"),
            noindex=is_noindex(page.get("robots") or []),
            canonicalized=canonical not in (None, page.get("url", page["_id"])),
            outlinks=page.get("external_outlinks") or 0,
            fetches=tuple(page.get("fetches") or (page["fetched_at"],)),
        )


def _field(name: str, default: Any = None) -> dict[str, Any]:
    return {"$ifNull": [f"${name}", default]}


def _window(times: str, count: str, at: datetime) -> dict[str, Any]:
    """`$set` expressions adding fetch time `at` to the window `times` and counting it in `count` once."""
    window = _field(times, [])
    counted = {
        "$and": [
            {"$cond": [{"$in": [at, window]}, False, True]},
            {"$or": [{"$lt": [{"$size": window}, WINDOW]}, {"$gt": [at, {"$arrayElemAt": [window, -1]}]}]},
        ]
    }
    newer = {"$filter": {"input": window, "as": "t", "cond": {"$gt": ["$$t", at]}}}
    older = {"$filter": {"input": window, "as": "t", "cond": {"$lt": ["$$t", at]}}}
    inserted = {"$slice": [{"$concatArrays": [newer, [at], older]}, WINDOW]}
    return {
        times: {"$cond": [counted, inserted, window]},
        count: {"$add": [_field(count, 0), {"$cond": [counted, 1, 0]}]},
    }


def _latest_wins(values: dict[str, Any], at: datetime, clock: str) -> dict[str, Any]:
    """Expressions keeping each value of the fetch at `at` only if it is at least as new as `clock`."""
    newer = {"$gte": [at, _field(clock, EPOCH)]}
    return {name: {"$cond": [newer, {"$literal": value}, f"${name}"]} for name, value in values.items()}


def _before() -> dict[str, Any]:
    return {"$set": {"_before": {name: _field(name) for name in WATCHED}}}


def _stamp() -> list[dict[str, Any]]:
    """Stages setting `changed_at` to the server's clock when a watched field changed, then dropping the copy."""
    after = {name: _field(name) for name in WATCHED}
    changed = {"$ne": ["$_before", after]}
    return [
        {"$set": {"changed_at": {"$cond": [changed, "$$NOW", _field("changed_at")]}}},
        {"$project": {"_before": 0, "_after": 0}},
    ]


def _derive(fetches: tuple[datetime, ...]) -> list[dict[str, Any]]:
    """The stages computing `live`, `lost_at`, `lost_reason`, `broken` from the merged fields.

    `lost_at` is the first fetch that found the link lost: the oldest of the
    page's known `fetches` after `last_seen` (the link gone) or after
    `last_indexable` (the page unindexed), found among the page's fetches and
    the link's own `seen_at`; the latest fetch when the window does not reach
    that far back.
    """
    source_at = _field("source_fetched_at", EPOCH)
    indexable_at = _field("last_indexable")
    gone = {"$gt": [source_at, "$last_seen"]}
    unindexed = {
        "$and": [
            {"$ne": [indexable_at, None]},
            {"$gt": [source_at, indexable_at]},
            {"$or": [{"$eq": ["$source_noindex", True]}, {"$eq": ["$source_canonicalized", True]}]},
        ]
    }
    lost = {"$or": [gone, unindexed]}
    boundary = {"$cond": [gone, "$last_seen", _field("last_indexable", EPOCH)]}
    known = {"$concatArrays": [list(fetches), _field("seen_at", [])]}
    after = {"$filter": {"input": known, "as": "f", "cond": {"$gt": ["$$f", boundary]}}}
    status = _field("source_status", 200)
    reason = {
        "$switch": {
            "branches": [
                {"case": {"$gte": [status, 400]}, "then": "source_failed"},
                {"case": {"$gte": [status, 300]}, "then": "source_redirected"},
                {"case": {"$and": [unindexed, {"$eq": ["$source_noindex", True]}]}, "then": "source_noindex"},
                {"case": unindexed, "then": "source_canonicalized"},
            ],
            "default": "link_removed",
        }
    }
    first_lost = {"$ifNull": [{"$min": "$_after"}, source_at]}
    return [
        {"$set": {"_after": after}},
        {
            "$set": {
                "live": {"$cond": [lost, False, True]},
                "lost_at": {"$cond": [lost, first_lost, None]},
                "lost_reason": {"$cond": [lost, reason, None]},
                "broken": {"$gte": [_field("target_status", 0), 400]},
            }
        },
    ]


def _source_values(fetch: SourceFetch) -> dict[str, Any]:
    return {
        "source_status": fetch.status,
        "source_noindex": fetch.noindex,
        "source_canonicalized": fetch.canonicalized,
        "source_outlinks": fetch.outlinks,
    }


def link_observed(link: dict[str, Any], identity: tuple[str, ...], source: SourceFetch) -> list[dict[str, Any]]:
    """The update pipeline (an upsert by `_id`) merging one fetch's observation of `link` into its document.

    `link` is a document of `documents.link_documents`; its `last_seen` is
    the fetch's time.
    """
    at = link["last_seen"]
    indexable = link.get("last_indexable")
    merge: dict[str, Any] = {name: {"$ifNull": [f"${name}", {"$literal": link[name]}]} for name in identity}
    merge |= _latest_wins({name: link[name] for name in MUTABLE_LINK_FIELDS if name in link}, at, "last_seen")
    merge |= _latest_wins(_source_values(source), at, "source_fetched_at")
    merge |= _window("seen_at", "seen_count", at)
    merge |= {
        "first_seen": {"$min": [_field("first_seen", at), at]},
        "last_seen": {"$max": [_field("last_seen", at), at]},
        "last_indexable": _latest_indexable(indexable),
        "source_fetched_at": {"$max": [_field("source_fetched_at", at), at]},
        "target_fetched_at": _field("target_fetched_at"),
        "target_status": _field("target_status"),
    }
    return [_before(), {"$set": merge}, *_derive(source.fetches or (at,)), *_stamp()]


def _latest_indexable(indexable: datetime | None) -> Any:
    """`last_indexable` merged with one fetch's: the later of the two, null only while both are."""
    if indexable is None:
        return _field("last_indexable")
    return {"$max": [_field("last_indexable", indexable), indexable]}


def source_fetched(source: SourceFetch) -> list[dict[str, Any]]:
    """The update pipeline telling every link of a page about the page's latest fetch (an `UpdateMany`)."""
    at = source.fetched_at
    merge = _latest_wins(_source_values(source), at, "source_fetched_at")
    merge["source_fetched_at"] = {"$max": [_field("source_fetched_at", at), at]}
    return [_before(), {"$set": merge}, *_derive(source.fetches), *_stamp()]


def target_fetched(fetched_at: datetime, status: int | None) -> list[dict[str, Any]]:
    """The update pipeline telling links about their target URL's latest fetch (an `UpdateMany`)."""
    merge = _latest_wins({"target_status": status}, fetched_at, "target_fetched_at")
    merge["target_fetched_at"] = {"$max": [_field("target_fetched_at", fetched_at), fetched_at]}
    return [_before(), {"$set": merge}, {"$set": {"broken": {"$gte": [_field("target_status", 0), 400]}}}, *_stamp()]


def never_refetched() -> list[dict[str, Any]]:
    """The update pipeline deriving the state of links whose source page is not stored: live, as last seen."""
    return [_before(), *_derive(()), *_stamp()]


def not_fetched_since(field: str, at: datetime) -> dict[str, Any]:
    """A filter for documents whose `field` is older than `at` or unset: the ones a fetch at `at` changes."""
    return {field: {"$not": {"$gte": at}}}


def page_observed(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The update pipeline (an upsert by `_id`) merging one fetch of a page into its `pages` document."""
    at = page["fetched_at"]
    values = {name: value for name, value in page.items() if name not in ("_id", "fetched_at")}
    merge = _latest_wins(values, at, "fetched_at")
    merge |= _window("fetches", "fetch_count", at)
    merge |= {
        "first_fetched": {"$min": [_field("first_fetched", at), at]},
        "created_at": _field("created_at", "$$NOW"),
        "fetched_at": {"$max": [_field("fetched_at", at), at]},
    }
    return [{"$set": merge}]
