"""Alert bodies: one JSON document per domain whose backlinks changed in a summarize run.

The profile job already knows what changed: each profile lists its new and
lost links since the domain's previous run, and its broken ones. An alert
compares the profile just written with the one it replaced (read before the
run by `previous_profiles`):

- a domain is alerted only when the run saw newer data than its previous
  profile (`data_as_of` moved), so rerunning `summarize` over the same data
  sends nothing twice;
- **new** and **lost** are the profile's; **broken** is *newly* broken: in
  the profile's broken list now and not in the previous profile's;
- `min_authority` keeps links whose referring domain has at least that
  authority; `domains` keeps only those target domains;
- a domain is alerted when any of the three lists is non-empty after the
  filters. The authority change (previous, current) rides along.

Counts of new and lost links are the profile's, complete; with
`min_authority`, and for newly broken links always, they count the links the
profile lists (its latest `Limits.changes`, 100 by default, per kind) that
pass. `links` holds the first `NOTIFY_LINKS` of them. The body's schema is `SCHEMA`, documented in
docs/alerts.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.profile.job import PROFILES

SCHEMA = "linkcrawler.alert/1"
KINDS = ("new", "lost", "broken")
LINK_FIELDS = ("source_url", "source_domain", "target_url", "anchor", "link_type", "follow")
KIND_FIELDS = {"new": ("first_seen",), "lost": ("lost_at", "reason"), "broken": ("target_status",)}


@dataclass(frozen=True)
class AlertFilter:
    """Which changes are worth an alert: target `domains` (None: all) and the referring domains' `min_authority`."""

    domains: frozenset[str] | None = None
    min_authority: float = 0.0


def previous_profiles(database: Any) -> dict[str, dict[str, Any]]:
    """What alerts compare with, read before a run: each profile's data_as_of, authority and broken links."""
    fields = {"data_as_of": 1, "authority": 1, "broken.links": 1}
    return {doc["_id"]: doc for doc in database[PROFILES].find({}, fields)}


def alert_bodies(
    database: Any, previous: dict[str, dict[str, Any]], authority: dict[str, float], wanted: AlertFilter, links: int
) -> list[dict[str, Any]]:
    """The alert of every domain that changed in the run just finished (see the module docstring), by domain."""
    query = {} if wanted.domains is None else {"_id": {"$in": sorted(wanted.domains)}}
    bodies = []
    for profile in database[PROFILES].find(query, sort=[("_id", 1)]):
        before = previous.get(profile["_id"])
        if before is not None and _naive(before["data_as_of"]) >= _naive(profile["data_as_of"]):
            continue
        was_broken = {_identity(link) for link in (before or {}).get("broken", {}).get("links", [])}
        changes = {
            "new": profile["new"]["links"],
            "lost": profile["lost"]["links"],
            "broken": [link for link in profile["broken"]["links"] if _identity(link) not in was_broken],
        }
        kept = {kind: _strong(found, authority, wanted.min_authority) for kind, found in changes.items()}
        counts = {kind: len(found) for kind, found in kept.items()}
        if wanted.min_authority <= 0:
            counts |= {kind: profile[kind]["count"] for kind in ("new", "lost")}
        if any(counts.values()):
            bodies.append(_body(profile, before, kept, counts, authority, links))
    return bodies


def _body(profile: dict[str, Any], before: dict[str, Any] | None, kept: dict[str, list[dict[str, Any]]],
          counts: dict[str, int], authority: dict[str, float], links: int) -> dict[str, Any]:  # fmt: skip
    previous = before["authority"] if before is not None else None
    current = profile["authority"]
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "domain": profile["domain"],
        "data_as_of": profile["data_as_of"],
        "since": profile["since"],
        "text": _summary(profile["domain"], counts, previous, current),
    }
    for kind in KINDS:
        listed = [_link(link, kind, authority) for link in kept[kind][:links]]
        body[kind] = {"count": counts[kind], "links": listed}
    change = None if previous is None else round(current - previous, 1)
    body["authority"] = {"previous": previous, "current": current, "change": change}
    return body


def _summary(domain: str, counts: dict[str, int], previous: float | None, current: float) -> str:
    """One human line: what Slack and similar webhooks show (they read the `text` field)."""
    changes = f"{counts['new']:,} new, {counts['lost']:,} lost, {counts['broken']:,} newly broken backlinks"
    trend = "" if previous is None else f" ({current - previous:+.1f})"
    return f"{domain}: {changes}; authority {current:.1f}{trend}"


def _strong(links: Iterable[dict[str, Any]], authority: dict[str, float], minimum: float) -> list[dict[str, Any]]:
    return [link for link in links if minimum <= 0 or authority.get(link["source_domain"], 0.0) >= minimum]


def _link(link: dict[str, Any], kind: str, authority: dict[str, float]) -> dict[str, Any]:
    fields = {name: link.get(name) for name in (*LINK_FIELDS, *KIND_FIELDS[kind])}
    return fields | {"source_authority": authority.get(link["source_domain"], 0.0)}


def _identity(link: dict[str, Any]) -> tuple[str, str, str, str]:
    return (link["source_url"], link["target_url"], link["link_type"], link["anchor"])


def _naive(value: datetime) -> datetime:
    """Stored dates compare as UTC whether the client hands them back aware or naive."""
    return value.replace(tzinfo=None)
