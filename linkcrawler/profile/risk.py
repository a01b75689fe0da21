"""Link risk: flags on a domain's referring domains, each with the evidence it rests on.

A score such as "toxic 73" invites disavowing good links without knowing
why; a flag names one pattern and carries the numbers that show it, from
what the crawl stored. Per (target domain, referring domain), live links only:

- `sitewide`: the referring domain links from at least `RISK_SITEWIDE_SHARE`
  of its crawled pages (`pages` stored for it, any status) and from at least
  `RISK_SITEWIDE_MIN_PAGES` pages: a footer or blogroll link, not an editorial one;
- `link_farm`: pages linking here carry more than `RISK_FARM_LINKS`
  external links each (the page's `external_outlinks`);
- `exact_anchor`: it uses a commercial anchor (class `other`: not branded,
  not a URL, not generic) that at least `RISK_ANCHOR_SHARE` of the target's
  links, and at least `RISK_ANCHOR_MIN_LINKS` links, carry: anchor text
  bought rather than chosen;
- `subnet_cluster`: it is served from a /24 (IPv4) or /48 (IPv6) from which
  at least `RISK_SUBNET_DOMAINS` referring domains link here: a network of
  sites posing as independent ones;
- `only_sponsored_ugc`: every link it has here is rel=sponsored or rel=ugc.

Every function runs grouped pipelines over `links`, starting from the state
each link carries, as `metrics` does, and returns small per-domain results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from linkcrawler import config
from linkcrawler.profile.anchors import classify_anchor, fold
from linkcrawler.profile.metrics import aggregate, match_links

FLAGS = ("sitewide", "link_farm", "exact_anchor", "subnet_cluster", "only_sponsored_ugc")
SETTINGS = {
    "sitewide_share": "RISK_SITEWIDE_SHARE",
    "sitewide_min_pages": "RISK_SITEWIDE_MIN_PAGES",
    "farm_links": "RISK_FARM_LINKS",
    "anchor_share": "RISK_ANCHOR_SHARE",
    "anchor_min_links": "RISK_ANCHOR_MIN_LINKS",
    "subnet_domains": "RISK_SUBNET_DOMAINS",
}
Pair = tuple[str, str]
"""(target domain, referring domain)."""


@dataclass(frozen=True)
class RiskThresholds:
    sitewide_share: float
    sitewide_min_pages: int
    farm_links: int
    anchor_share: float
    anchor_min_links: int
    subnet_domains: int

    @classmethod
    def from_settings(cls, settings: Any = None) -> RiskThresholds:
        """The thresholds the settings give (their defaults, in `linkcrawler.config`, without settings)."""
        return cls(**{field: config.get(settings, name) for field, name in SETTINGS.items()})


def risk_sections(
    database: Any, links: Any, domains: list[str] | None, anchors: dict[str, list[dict[str, Any]]],
    live: dict[str, int], thresholds: RiskThresholds, limit: int,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per target domain: its flagged referring domains (most flags first, at most `limit`) and the thresholds."""
    flags: dict[Pair, dict[str, Any]] = defaultdict(dict)
    pairs = _pairs(links, domains)
    for pair, evidence in _sitewide(database, pairs, thresholds).items():
        flags[pair]["sitewide"] = evidence
    for pair, evidence in _farm_pages(links, domains, thresholds.farm_links).items():
        flags[pair]["link_farm"] = evidence
    for pair, evidence in _exact_anchors(links, anchors, live, thresholds).items():
        flags[pair]["exact_anchor"] = evidence
    for pair, evidence in _subnet_clusters(links, domains, thresholds.subnet_domains).items():
        flags[pair]["subnet_cluster"] = evidence
    for pair, row in pairs.items():
        if row["paid_or_ugc"] == row["links"]:
            flags[pair]["only_sponsored_ugc"] = {
                "links": row["links"],
                "sponsored": row["sponsored"],
                "ugc": row["ugc"],
            }
    by_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (target, source), found in flags.items():
        ordered = {name: found[name] for name in FLAGS if name in found}
        by_domain[target].append({"domain": source, "links": pairs[(target, source)]["links"], "flags": ordered})
    result = {}
    for target, rows in by_domain.items():
        rows.sort(key=lambda row: (-len(row["flags"]), row["domain"]))
        result[target] = {"flagged": len(rows), "referring_domains": rows[:limit], "thresholds": asdict(thresholds)}
    return result


def describe_flags(flags: dict[str, dict[str, Any]]) -> str:
    """Flags and evidence on one line for people: `sitewide (linking_pages=12, crawled_pages=12, share=1.0); ...`."""
    return "; ".join(
        f"{name} ({', '.join(f'{key}={_shown(value)}' for key, value in evidence.items())})"
        for name, evidence in flags.items()
    )


def _shown(value: Any) -> str:
    text = f'"{value}"' if isinstance(value, str) and " " in value else str(value)
    return " ".join(text.split())


def no_risk(thresholds: RiskThresholds) -> dict[str, Any]:
    """The risk section of a domain without flagged referring domains."""
    return {"flagged": 0, "referring_domains": [], "thresholds": asdict(thresholds)}


def _pairs(links: Any, domains: list[str] | None) -> dict[Pair, dict[str, int]]:
    """Per (target, referring domain): live links, distinct linking pages, and links that are sponsored or ugc."""
    paid = {"$or": [{"$eq": ["$sponsored", True]}, {"$eq": ["$ugc", True]}]}
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {
                "$group": {
                    "_id": {"d": "$target_domain", "s": "$source_domain", "u": "$source_url"},
                    "links": {"$sum": 1},
                    "paid_or_ugc": {"$sum": {"$cond": [paid, 1, 0]}},
                    "sponsored": {"$sum": {"$cond": [{"$eq": ["$sponsored", True]}, 1, 0]}},
                    "ugc": {"$sum": {"$cond": [{"$eq": ["$ugc", True]}, 1, 0]}},
                }
            },
            {
                "$group": {
                    "_id": {"d": "$_id.d", "s": "$_id.s"},
                    "pages": {"$sum": 1},
                    **{key: {"$sum": f"${key}"} for key in ("links", "paid_or_ugc", "sponsored", "ugc")},
                }
            },
        ],
    )
    return {(row["_id"]["d"], row["_id"]["s"]): row for row in rows if row["_id"]["s"]}


def _sitewide(database: Any, pairs: dict[Pair, dict[str, int]], t: RiskThresholds) -> dict[Pair, dict[str, Any]]:
    candidates = {pair: row["pages"] for pair, row in pairs.items() if row["pages"] >= t.sitewide_min_pages}
    referrers = sorted({source for _, source in candidates})
    crawled = {
        row["_id"]: row["n"]
        for row in database["pages"].aggregate(
            [{"$match": {"domain": {"$in": referrers}}}, {"$group": {"_id": "$domain", "n": {"$sum": 1}}}]
        )
    }
    result = {}
    for (target, source), linking in candidates.items():
        total = crawled.get(source, 0)
        if total and linking / total >= t.sitewide_share:
            result[(target, source)] = {
                "linking_pages": linking,
                "crawled_pages": total,
                "share": round(linking / total, 3),
            }
    return result


def _farm_pages(links: Any, domains: list[str] | None, limit: int) -> dict[Pair, dict[str, int]]:
    rows = aggregate(
        links,
        [
            *match_links(domains, True, source_outlinks={"$gt": limit}),
            {
                "$group": {
                    "_id": {"d": "$target_domain", "s": "$source_domain", "u": "$source_url"},
                    "n": {"$max": "$source_outlinks"},
                }
            },
            {"$group": {"_id": {"d": "$_id.d", "s": "$_id.s"}, "pages": {"$sum": 1}, "most": {"$max": "$n"}}},
        ],
    )
    return {(r["_id"]["d"], r["_id"]["s"]): {"pages": r["pages"], "max_external_links": r["most"]} for r in rows}


def _exact_anchors(
    links: Any, anchors: dict[str, list[dict[str, Any]]], live: dict[str, int], t: RiskThresholds
) -> dict[Pair, dict[str, Any]]:
    """Referring domains using a commercial anchor that a large share of the target's links carry."""
    dominant: dict[tuple[str, str], int] = {}
    written: set[str] = set()
    for target, rows in anchors.items():
        folded: dict[str, int] = defaultdict(int)
        for row in rows:
            folded[fold(row["anchor"])] += row["links"]
        for text, count in folded.items():
            total = live.get(target, 0)
            strong = count >= t.anchor_min_links and total and count / total >= t.anchor_share
            if strong and classify_anchor(text, target) == "other":
                dominant[(target, text)] = count
                written.update(row["anchor"] for row in rows if fold(row["anchor"]) == text)
    if not dominant:
        return {}
    targets = sorted({target for target, _ in dominant})
    rows = aggregate(
        links,
        [
            *match_links(targets, True, anchor={"$in": sorted(written)}),
            {"$group": {"_id": {"d": "$target_domain", "s": "$source_domain", "a": "$anchor"}, "n": {"$sum": 1}}},
        ],
    )
    result: dict[Pair, dict[str, Any]] = {}
    for row in rows:
        target, source, text = row["_id"]["d"], row["_id"]["s"], fold(row["_id"]["a"] or "")
        if (target, text) not in dominant or not source:
            continue
        evidence = result.setdefault((target, source), {"anchor": text, "links": 0})
        if evidence["anchor"] == text:
            evidence["links"] += row["n"]
            evidence["domain_links"] = dominant[(target, text)]
            evidence["domain_share"] = round(dominant[(target, text)] / live[target], 3)
    return result


def _subnet_clusters(links: Any, domains: list[str] | None, minimum: int) -> dict[Pair, dict[str, Any]]:
    rows = aggregate(
        links,
        [
            *match_links(domains, True),
            {"$group": {"_id": {"d": "$target_domain", "n": "$source_subnet", "s": "$source_domain"}}},
            {"$group": {"_id": {"d": "$_id.d", "n": "$_id.n"}, "domains": {"$addToSet": "$_id.s"}}},
        ],
    )
    result: dict[Pair, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: -len(r["domains"])):
        subnet, members = row["_id"]["n"], [d for d in row["domains"] if d]
        if not subnet or len(members) < minimum:
            continue
        for source in members:
            result.setdefault((row["_id"]["d"], source), {"subnet": subnet, "referring_domains": len(members)})
    return result
