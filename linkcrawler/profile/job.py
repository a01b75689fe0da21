"""`summarize`: the post-crawl job that writes one backlink profile per target domain.

Steps: (1) choose the domains to recompute: those with a link whose state
changed since the previous run (`changed_at`, stamped by the store: see
`linkcrawler.store.state`), and those linked from a domain that gained
pages (its sitewide risk share changed); every domain on the first run,
after a crashed one, when the risk thresholds or list limits changed, or
with `everything`; (2) their referring domains go to `referring_domains`;
(3) authority runs on those rows, one per domain pair, for every domain
(PageRank needs the whole graph); (4) grouped pipelines compute each metric
of the recomputed domains, each starting with an indexed `$match` on the
state every link carries (`metrics`); (5) every other profile is carried
forward: this run's authority, its top referring domains re-ranked by it,
the rest as computed when its links last changed, which is what a recompute
gives: no new or lost links when the data is newer than its last run (none
of its links changed since), its own when the data is the same; (6) every profile replaces the previous one
in `domain_profiles` and writes its history entry (every domain, every run,
so the charts over runs stay right). A run reads the changed domains' links,
one row per domain pair and one profile per domain, never the whole link
table. Every write is keyed (profile by domain, history by domain and
`data_as_of`), so a crashed run is simply run again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne

from linkcrawler.profile import history, metrics, referring
from linkcrawler.profile.anchors import ANCHOR_CLASSES, classify_anchor, fold
from linkcrawler.profile.authority import authority_scores
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.risk import RiskThresholds, no_risk, risk_sections
from linkcrawler.store.schema import META

RUN = "summarize"
"""The `linkcrawler_meta` document of the profile job: where the next run starts and what it ran with."""

MARGIN = timedelta(seconds=1)
"""How far before the previous run's last change stamp a run looks: a write in flight while that run read the
stamps carries one a few milliseconds earlier than some it could see."""


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
    recomputed: int = 0
    """Profiles computed from their links; the others were carried forward."""


def summarize(
    database: Any,
    domains: list[str] | None = None,
    limits: Limits = Limits(),
    now: datetime | None = None,
    thresholds: RiskThresholds | None = None,
    everything: bool = False,
) -> SummaryResult:
    """Compute and store profiles: of `domains` when given, else of every domain whose links changed since the
    previous run (all of them with `everything`); risk flags by `thresholds`."""
    started = datetime.now(UTC)
    computed_at = now or started
    history.ensure_indexes(database)
    referring.ensure_indexes(database)
    risk = thresholds or RiskThresholds.from_settings()
    links = database["links"]
    previous = database[META].find_one({"_id": RUN}) or {}
    stamp = _latest_stamp(database)
    data_as_of = _data_as_of(database, computed_at)
    settings = _fingerprint(limits, risk)
    whole = everything or not previous.get("finished") or previous.get("settings") != settings
    changed = None if whole else _changed_domains(database, previous["stamp"] - MARGIN)
    chosen = changed if domains is None else sorted(set(domains))
    database[META].update_one({"_id": RUN}, {"$set": {"finished": False}}, upsert=True)
    rows = None if changed is None else sorted(set(changed) | set(chosen or ()))
    referrers = metrics.referring_domains(links, rows)
    referring.replace(database, rows, referrers)
    authority = authority_scores(referring.followed_edges(database))
    profiles = _profiles(database, links, chosen, referrers, limits, computed_at, data_as_of, authority, risk)
    recomputed = len(profiles)
    if chosen is not None and domains is None:
        profiles += _carried(database, {p["_id"] for p in profiles}, computed_at, data_as_of, authority, limits)
    if profiles:
        database[PROFILES].bulk_write([_write(p) for p in profiles], ordered=False)
        database[history.HISTORY].bulk_write([history.entry(p) for p in profiles], ordered=False)
    run = {"finished": True, "stamp": stamp, "settings": settings} if domains is None else {"finished": True}
    database[META].update_one({"_id": RUN}, {"$set": run}, upsert=True)
    counted = sum(p["backlinks"]["all_time"] for p in profiles)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return SummaryResult(len(profiles), counted, data_as_of, seconds, authority, recomputed)


def _latest_stamp(database: Any) -> datetime:
    """The latest change stamp stored (a link's state, a new page), read first: the next run starts there."""
    stamps = [datetime(1970, 1, 1, tzinfo=UTC)]
    for collection, name in (("links", "changed_at"), ("pages", "created_at")):
        latest = database[collection].find_one({name: {"$ne": None}}, {name: 1}, sort=[(name, -1)])
        if latest:
            stamps.append(_aware(latest[name]))
    return max(stamps)


def _aware(value: datetime) -> datetime:
    """A date as pymongo reads it (naive UTC unless the client is tz-aware), in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _changed_domains(database: Any, since: datetime) -> list[str]:
    """Domains with a link changed since `since`, and those linked from a domain that gained pages since."""
    changed = set(database["links"].distinct("target_domain", {"changed_at": {"$gte": since}}))
    grown = sorted(database["pages"].distinct("domain", {"created_at": {"$gte": since}}))
    return sorted(changed | set(referring.targets_linked_from(database, grown)))


def _fingerprint(limits: Limits, thresholds: RiskThresholds) -> str:
    """What a profile depends on besides the data: a change recomputes every domain."""
    settings = json.dumps([asdict(limits), asdict(thresholds)], sort_keys=True)
    return hashlib.blake2b(settings.encode(), digest_size=8).hexdigest()


def _carried(
    database: Any,
    recomputed: set[str],
    computed_at: datetime,
    data_as_of: datetime,
    authority: dict[str, float],
    limits: Limits,
) -> list[dict[str, Any]]:
    """The profiles whose links did not change, brought to this run (see the module docstring)."""
    stored = [p for p in database[PROFILES].find(sort=[("_id", 1)]) if p["_id"] not in recomputed]
    rows = referring.of_domains(database, [p["_id"] for p in stored])
    no_change = {"count": 0, "links": []}
    for profile in stored:
        domain = profile["_id"]
        profile.update(
            computed_at=computed_at,
            authority=authority.get(domain, 0.0),
            top_referring_domains=_top_referrers(rows.get(domain, []), authority, limits),
        )
        if _aware(profile["data_as_of"]) < _aware(data_as_of):
            profile.update(data_as_of=data_as_of, since=profile["data_as_of"], new=no_change, lost=no_change)
    return stored


def _write(profile: dict[str, Any]) -> UpdateOne:
    """Every profile carries every top-level field, so setting them all replaces the previous profile.

    (An `UpdateOne` rather than a `ReplaceOne`: mongomock's bulk builder
    cannot take the replace that pymongo >= 4.11 sends.)
    """
    fields = {key: value for key, value in profile.items() if key != "_id"}
    return UpdateOne({"_id": profile["_id"]}, {"$set": fields}, upsert=True)


def _data_as_of(database: Any, fallback: datetime) -> datetime:
    """The latest page fetch stored: what this run's numbers are as of.

    Read before the metrics, so a page a running crawl stores meanwhile
    is newer than `data_as_of` and its changes count in the next run too,
    never in neither.
    """
    latest = database["pages"].find_one({"fetched_at": {"$ne": None}}, sort=[("fetched_at", -1)])
    return latest["fetched_at"] if latest else fallback


def _profiles(
    database: Any,
    links: Any,
    domains: list[str] | None,
    referrers: dict[str, list[dict[str, Any]]],
    limits: Limits,
    computed_at: datetime,
    data_as_of: datetime,
    authority: dict[str, float],
    thresholds: RiskThresholds,
) -> list[dict[str, Any]]:
    """Profiles of `domains` (None: every target domain) from their links and `referrers` rows."""
    if domains == []:
        return []
    counts = metrics.link_counts(links, domains)
    chosen = sorted(counts)  # the chosen domains that have stored backlinks, live or lost
    types = metrics.breakdown(links, domains, "link_type")
    positions = metrics.breakdown(links, domains, "position")
    pages = metrics.referring_pages(links, domains)
    hosts = metrics.referring_hosts(links, domains)
    top_pages = metrics.top_pages(links, domains, limits.top_pages)
    anchors = metrics.anchor_rows(links, domains)
    broken = metrics.changed_links(links, domains, "target_status", None, limits.changes, live=True, broken=True)
    since = history.baselines(database, chosen, data_as_of)
    new, lost = _changes(links, since, limits.changes)
    live = {domain: row["live"] for domain, row in counts.items()}
    risk = risk_sections(database, links, domains, anchors, live, thresholds, limits.risk)
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
    links: Any, since: dict[str, datetime | None], limit: int
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """New and lost links per domain after its own baseline: one pass per distinct baseline (usually one)."""
    by_baseline: dict[datetime | None, list[str]] = defaultdict(list)
    for domain, when in since.items():
        by_baseline[when].append(domain)
    new: dict[str, dict[str, Any]] = {}
    lost: dict[str, dict[str, Any]] = {}
    for when, domains in by_baseline.items():
        new.update(metrics.changed_links(links, domains, "first_seen", when, limit))
        lost.update(metrics.changed_links(links, domains, "lost_at", when, limit))
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
