"""`summarize`: the post-crawl job that writes one backlink profile per target domain.

Steps: (1) one pipeline computes every link's state into a scratch
collection (`state`); (2) grouped pipelines compute each metric for all
chosen domains (`metrics`); (3) authority runs on the graph of live dofollow
links between all domains, whichever are chosen (PageRank needs the whole
graph); (4) each profile replaces the previous one in `domain_profiles` and
writes its history entry. Every write is keyed (profile by domain, history
by domain and `data_as_of`), so a crashed run is simply run again, and a
rerun over unchanged data changes nothing but `computed_at`. Run one
summarize at a time per database: a run drops the scratch left by others.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne

from linkcrawler.profile import history, metrics
from linkcrawler.profile.anchors import ANCHOR_CLASSES, classify_anchor, fold
from linkcrawler.profile.authority import authority_scores
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.risk import RiskThresholds, no_risk, risk_sections
from linkcrawler.profile.state import SCRATCH_PREFIX, link_state_pipeline


@dataclass(frozen=True)
class Limits:
    """How long the lists in a profile document get (counts are always complete)."""

    top_pages: int = 50
    top_referring_domains: int = 50
    anchors: int = 50
    changes: int = 100
    risk: int = 10_000


@dataclass
class SummaryResult:
    domains: int
    links: int
    data_as_of: datetime
    seconds: float
    authority: dict[str, float] = field(default_factory=dict)
    """Every domain's authority in this run (alerts filter referring domains by it)."""


def summarize(
    database: Any,
    domains: list[str] | None = None,
    limits: Limits = Limits(),
    now: datetime | None = None,
    thresholds: RiskThresholds | None = None,
) -> SummaryResult:
    """Compute and store the profiles of `domains` (every target domain when None); risk flags by `thresholds`."""
    started = datetime.now(UTC)
    computed_at = now or started
    history.ensure_indexes(database)
    _drop_stale_scratch(database)
    scratch = database[f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"]
    data_as_of = _data_as_of(database, computed_at)
    try:
        database["links"].aggregate(link_state_pipeline(scratch.name), allowDiskUse=True)
        scratch.create_index([("target_domain", ASCENDING), ("first_seen", ASCENDING)], name="domain_first_seen")
        scratch.create_index([("target_domain", ASCENDING), ("lost_at", ASCENDING)], name="domain_lost_at")
        chosen = None if domains is None else sorted(set(domains))
        authority = authority_scores(metrics.domain_edges(scratch))
        risk = thresholds or RiskThresholds.from_settings()
        profiles = _profiles(database, scratch, chosen, limits, computed_at, data_as_of, authority, risk)
        if profiles:
            database[PROFILES].bulk_write([_write(p) for p in profiles], ordered=False)
            database[history.HISTORY].bulk_write([history.entry(p) for p in profiles], ordered=False)
        links = scratch.count_documents({})
    finally:
        scratch.drop()
    seconds = (datetime.now(UTC) - started).total_seconds()
    return SummaryResult(len(profiles), links, data_as_of, seconds, authority)


def _write(profile: dict[str, Any]) -> UpdateOne:
    """Every profile carries every top-level field, so setting them all replaces the previous profile.

    (An `UpdateOne` rather than a `ReplaceOne`: mongomock's bulk builder
    cannot take the replace that pymongo >= 4.11 sends.)
    """
    fields = {key: value for key, value in profile.items() if key != "_id"}
    return UpdateOne({"_id": profile["_id"]}, {"$set": fields}, upsert=True)


def _drop_stale_scratch(database: Any) -> None:
    for name in database.list_collection_names():
        if name.startswith(SCRATCH_PREFIX):
            database.drop_collection(name)


def _data_as_of(database: Any, fallback: datetime) -> datetime:
    """The latest page fetch stored: what this run's numbers are as of.

    Read before the link states, so a page a running crawl stores meanwhile
    is newer than `data_as_of` and its changes count in the next run too,
    never in neither.
    """
    latest = database["pages"].find_one({"fetched_at": {"$ne": None}}, sort=[("fetched_at", -1)])
    return latest["fetched_at"] if latest else fallback


def _profiles(
    database: Any,
    scratch: Any,
    domains: list[str] | None,
    limits: Limits,
    computed_at: datetime,
    data_as_of: datetime,
    authority: dict[str, float],
    thresholds: RiskThresholds,
) -> list[dict[str, Any]]:
    """Profiles of `domains` (None: every target domain, and the pipelines need no `$match`)."""
    counts = metrics.link_counts(scratch, domains)
    chosen = sorted(counts)  # the chosen domains that have stored backlinks, live or lost
    types = metrics.breakdown(scratch, domains, "link_type")
    positions = metrics.breakdown(scratch, domains, "position")
    pages = metrics.referring_pages(scratch, domains)
    hosts = metrics.referring_hosts(scratch, domains)
    referrers = metrics.referring_domains(scratch, domains)
    top_pages = metrics.top_pages(scratch, domains, limits.top_pages)
    anchors = metrics.anchor_rows(scratch, domains)
    broken = metrics.changed_links(scratch, domains, "target_status", None, limits.changes, live=True, broken=True)
    since = {domain: history.baseline(database, domain, data_as_of) for domain in chosen}
    new, lost = _changes(scratch, since, limits.changes)
    live = {domain: row["live"] for domain, row in counts.items()}
    risk = risk_sections(database, scratch, domains, anchors, live, thresholds, limits.risk)
    no_change = {"count": 0, "links": []}
    profiles = []
    for domain in chosen:
        rows = referrers.get(domain, [])
        profiles.append(
            {
                "_id": domain,
                "domain": domain,
                "computed_at": computed_at,
                "data_as_of": data_as_of,
                "since": since[domain],
                "authority": authority.get(domain, 0.0),
                "backlinks": _backlinks(counts.get(domain)),
                "referring": {
                    "pages": pages.get(domain, 0),
                    "domains": len(rows),
                    **hosts.get(domain, {"hosts": 0, "ips": 0, "subnets": 0}),
                },
                "referring_domains_by_follow": _follow_by_domain(rows),
                "link_types": types.get(domain, {}),
                "positions": positions.get(domain, {}),
                "anchors": anchor_summary(domain, anchors.get(domain, []), limits.anchors),
                "top_pages": top_pages.get(domain, []),
                "top_referring_domains": _top_referrers(rows, authority, limits),
                "tlds": tld_distribution(rows),
                "new": new.get(domain, no_change),
                "lost": lost.get(domain, no_change),
                "broken": broken.get(domain, no_change),
                "risk": risk.get(domain) or no_risk(thresholds),
            }
        )
    return profiles


def _changes(
    scratch: Any, since: dict[str, datetime | None], limit: int
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """New and lost links per domain after its own baseline: one pass per distinct baseline (usually one)."""
    by_baseline: dict[datetime | None, list[str]] = defaultdict(list)
    for domain, when in since.items():
        by_baseline[when].append(domain)
    new: dict[str, dict[str, Any]] = {}
    lost: dict[str, dict[str, Any]] = {}
    for when, domains in by_baseline.items():
        new.update(metrics.changed_links(scratch, domains, "first_seen", when, limit))
        lost.update(metrics.changed_links(scratch, domains, "lost_at", when, limit))
    return new, lost


def _backlinks(counts: dict[str, int] | None) -> dict[str, int]:
    counts = counts or {}
    keys = ("live", "all_time", "dofollow", "not_followed", "nofollow", "ugc", "sponsored", "broken")
    return {key: counts.get(key, 0) for key in keys}


def _follow_by_domain(referrers: list[dict[str, Any]]) -> dict[str, int]:
    """Referring domains with at least one followed link (dofollow) or none (nofollow), and with ugc/sponsored."""
    dofollow = sum(1 for r in referrers if r["follow"])
    return {
        "dofollow": dofollow,
        "nofollow": len(referrers) - dofollow,
        "ugc": sum(1 for r in referrers if r["ugc"]),
        "sponsored": sum(1 for r in referrers if r["sponsored"]),
    }


def _top_referrers(referrers: list[dict[str, Any]], authority: dict[str, float], limits: Limits) -> list[dict]:
    rows = [
        {
            "domain": r["domain"],
            "links": r["links"],
            "dofollow": r["follow"],
            "authority": authority.get(r["domain"], 0.0),
        }
        for r in referrers
    ]
    rows.sort(key=lambda r: (-r["authority"], -r["links"], r["domain"]))
    return rows[: limits.top_referring_domains]


def anchor_summary(domain: str, rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """Exact anchors grouped by their folded form, classed; links per class and the top anchors."""
    links: Counter[str] = Counter()
    sources: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        text = fold(row["anchor"])
        links[text] += row["links"]
        sources[text].update(row["sources"])
    classes = dict.fromkeys(ANCHOR_CLASSES, 0)
    for text, count in links.items():
        classes[classify_anchor(text, domain)] += count
    top = sorted(links, key=lambda text: (-links[text], -len(sources[text]), text))[:limit]
    return {
        "distinct": len(links),
        "classes": classes,
        "top": [
            {"anchor": t, "class": classify_anchor(t, domain), "links": links[t], "referring_domains": len(sources[t])}
            for t in top
        ],
    }


def tld_distribution(referrers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Referring domains per public suffix (`co.uk`, `github.io`: the part after the registered label)."""
    counts = Counter(r["domain"].split(".", 1)[1] if "." in r["domain"] else r["domain"] for r in referrers)
    return [{"tld": tld, "referring_domains": n} for tld, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
