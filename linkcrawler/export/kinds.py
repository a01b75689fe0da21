"""The aggregation behind each export kind: which links, grouped how, in which order, with which columns.

Every kind starts from the domain's external links and the state each
carries (`linkcrawler.store.state`: live, lost_at, reason, broken), so a
row of an export agrees with the profile: `backlinks`, `broken` and
`outlinks` are live links, `new` and `lost` default to the profile's window
(after the domain's previous summarize run), `referring-domains` and
`anchors` group live backlinks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.errors import UserError
from linkcrawler.profile.history import PROFILES
from linkcrawler.query import LinkFilters, authority_stages, link_stages, target_filter

LINK_COLUMNS = (
    "source_url", "source_domain", "target_url", "target_domain", "anchor", "link_type", "follow", "nofollow",
    "ugc", "sponsored", "position", "first_seen", "last_seen", "lost_at", "reason", "target_status",
)  # fmt: skip
REFERRING_COLUMNS = ("domain", "links", "dofollow", "authority", "first_seen", "last_seen")
ANCHOR_COLUMNS = ("anchor", "links", "dofollow", "referring_domains", "first_seen", "last_seen")

LIVE = {"live": True}
KINDS: dict[str, dict[str, Any]] = {
    "backlinks": LIVE,
    "referring-domains": LIVE,
    "anchors": LIVE,
    "new": {},
    "lost": {"lost_at": {"$ne": None}},
    "broken": {**LIVE, "broken": True},
    "outlinks": LIVE,
}
"""Each kind and the state its links are in (see `linkcrawler.store.state`): live, any, lost, broken."""

BATCH_SIZE = 1000
"""Rows per cursor batch: what an export holds in memory at a time."""


@dataclass(frozen=True)
class Window:
    """`since` (inclusive, or exclusive with `after`) and `until` (exclusive) on a link's date; None is open."""

    since: datetime | None = None
    until: datetime | None = None
    after: bool = False

    def condition(self) -> dict[str, Any] | None:
        lower = "$gt" if self.after else "$gte"
        bounds = {op: value for op, value in ((lower, self.since), ("$lt", self.until)) if value is not None}
        return bounds or None


def columns(kind: str) -> tuple[str, ...]:
    return {"referring-domains": REFERRING_COLUMNS, "anchors": ANCHOR_COLUMNS}.get(kind, LINK_COLUMNS)


def pipeline(
    db: Any, kind: str, target: str, filters: LinkFilters | None = None, window: Window | None = None
) -> list[dict[str, Any]]:
    """The aggregation on `links` answering `kind` for a domain (or a URL, for the backlink kinds)."""
    filters, window = filters or LinkFilters(), window or Window()
    if kind not in KINDS:
        raise UserError(f"unknown export kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind == "outlinks" and filters.source_domain is not None:
        raise UserError("--source-domain does not apply to outlinks: their source is the domain itself")
    chosen = _source_filter(target) if kind == "outlinks" else target_filter(target)
    state = dict(KINDS[kind])
    dates = _default_window(db, kind, target, window).condition()
    if dates is not None:
        state["lost_at" if kind == "lost" else "first_seen"] = dates
    stages = link_stages({**chosen, **filters.match(), **state})
    if kind == "referring-domains":
        return [*stages, *_grouped("$source_domain"), *authority_stages(), _sorted(kind), _project(kind, "domain")]
    if kind == "anchors":
        return [*stages, *_grouped("$anchor", referring=True), _sorted(kind), _project(kind, "anchor")]
    return [*stages, _sorted(kind), _project(kind)]


def rows(db: Any, stages: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The rows of an export pipeline, fetched from the server one batch at a time."""
    return db["links"].aggregate(stages, allowDiskUse=True, batchSize=BATCH_SIZE)


def _source_filter(target: str) -> dict[str, Any]:
    """Outlinks: links from one URL (`source_url`) or from a domain's pages (`source_domain`)."""
    return {key.replace("target_", "source_", 1): value for key, value in target_filter(target).items()}


def _default_window(db: Any, kind: str, target: str, window: Window) -> Window:
    """`new` and `lost` without dates: after the domain's previous summarize run, as its profile counts them."""
    if kind not in ("new", "lost") or window.condition() is not None:
        return window
    domain = target_filter(target).get("target_domain")
    profile = db[PROFILES].find_one({"_id": domain}) if domain else None
    return Window(since=profile.get("since") if profile else None, after=True)


def _grouped(key: str, *, referring: bool = False) -> list[dict[str, Any]]:
    group: dict[str, Any] = {
        "_id": key,
        "links": {"$sum": 1},
        "dofollow": {"$sum": {"$cond": ["$follow", 1, 0]}},
        "first_seen": {"$min": "$first_seen"},
        "last_seen": {"$max": "$last_seen"},
    }
    if not referring:
        return [{"$group": group}]
    # Distinct referring domains per anchor: (anchor, domain) pairs first, so no group holds a set of links.
    pairs = {**group, "_id": {"a": key, "d": "$source_domain"}}
    return [
        {"$group": pairs},
        {"$group": {"_id": "$_id.a", "links": {"$sum": "$links"}, "dofollow": {"$sum": "$dofollow"},
                    "referring_domains": {"$sum": 1}, "first_seen": {"$min": "$first_seen"},
                    "last_seen": {"$max": "$last_seen"}}},
    ]  # fmt: skip


def _sorted(kind: str) -> dict[str, Any]:
    if kind in ("referring-domains", "anchors"):
        return {"$sort": {"links": -1, "_id": 1}}
    first = ("lost_at", -1) if kind == "lost" else ("first_seen", -1)
    return {"$sort": dict([first, ("source_url", 1), ("target_url", 1), ("_id", 1)])}


def _project(kind: str, key: str | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"_id": 0, **dict.fromkeys(columns(kind), 1)}
    if key is not None:
        fields[key] = "$_id"
    return {"$project": fields}
