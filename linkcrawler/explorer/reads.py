"""The queries behind the views: each one indexed `find` or one aggregation with a row cap.

Link tables reuse the export's notion of each kind (`linkcrawler.export.kinds`:
which state, which window) and the query module's filters, so a page, its
"export these rows" file and `linkcrawler export` agree row for row. The time
limit is not set here: every request runs under `pymongo.timeout` (see
`app`), which gives each operation its `maxTimeMS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkcrawler.explorer import paging
from linkcrawler.explorer.params import BadParam, NotFound
from linkcrawler.export import kinds
from linkcrawler.extract.urls import normalize_seed
from linkcrawler.profile import history
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.referring import REFERRING
from linkcrawler.query import INTERSECT_ORDER, LINK_FIELDS, LinkFilters, intersect_row, intersect_stages, link_stages

TIE = [("source_url", 1), ("target_url", 1), ("_id", 1)]
LINK_SORTS: dict[str, paging.Sort] = {
    "newest": [("first_seen", -1), *TIE],
    "oldest": [("first_seen", 1), *TIE],
    "source": [("source_domain", 1), *TIE],
    "lost": [("lost_at", -1), *TIE],
}
"""Each on an index of `links` (target_domain + first_seen, live + source_domain, lost_at); `newest` and `lost`
are the order `linkcrawler export` writes."""

STATES = {"live": kinds.KINDS["backlinks"], "lost": kinds.KINDS["lost"], "broken": kinds.KINDS["broken"],
          "all": kinds.KINDS["new"]}  # fmt: skip
LINK_ROW_FIELDS = {**LINK_FIELDS, "_id": 1, "target_domain": 1, "live": 1, "lost_at": 1, "lost_reason": 1,
                   "broken": 1, "target_status": 1}  # fmt: skip
REFERRING_SORTS: dict[str, paging.Sort] = {
    "links": [("links", -1), ("source", 1)],
    "domain": [("source", 1)],
    "dofollow": [("follow", -1), ("source", 1)],
}
ANCHOR_SORT: paging.Sort = [("links", -1), ("anchor", 1)]
"""The export's order of anchors (most links first, then the text), on its rows."""
URL_ROWS = 100
"""The page of one URL lists its first links each way (newest first), and how many there are."""
EXPORT_ROW_CAP = 1_000_000
HOME_ROWS = 100
COMPARE_MAX = 5


@dataclass(frozen=True)
class LinkTable:
    """One link table of a domain: which kind (as the export names it), its filters, window and state."""

    kind: str
    domain: str
    filters: LinkFilters = field(default_factory=LinkFilters)
    state: str = "live"
    since: datetime | None = None
    until: datetime | None = None

    def condition(self, profile: dict[str, Any]) -> dict[str, Any]:
        """What `links` rows the table holds (without `internal`, which `link_stages` adds)."""
        if self.kind == "outlinks":
            if self.filters.source_domain is not None:
                raise BadParam("source_domain", "does not apply to outgoing links: their source is the domain itself")
            chosen: dict[str, Any] = {"source_domain": {"$eq": self.domain}}
        else:
            chosen = {"target_domain": {"$eq": self.domain}}
        state = dict(STATES[self.state]) if self.kind == "backlinks" else dict(kinds.KINDS[self.kind])
        window = kinds.Window(self.since, self.until)
        if self.kind in ("new", "lost") and window.condition() is None:
            window = kinds.Window(profile.get("since"), after=True)
        dates = window.condition()
        if dates is not None:
            state["lost_at" if self.kind == "lost" else "first_seen"] = dates
        return {**chosen, **self.filters.match(), **state}


def profile(db: Any, domain: str, *, linking: bool = False) -> dict[str, Any]:
    """The domain's stored profile; with `linking`, a domain without one that links out has an empty one."""
    document = db[PROFILES].find_one({"_id": {"$eq": domain}})
    if document is None and linking and db["links"].find_one({"source_domain": {"$eq": domain}}, {"_id": 1}):
        return {"_id": domain, "domain": domain}
    if document is None:
        raise NotFound(f"no profile for {domain}: it has no stored backlinks, or `linkcrawler summarize` has not run")
    return document


def home(db: Any) -> dict[str, Any]:
    fields = {"authority": 1, "backlinks": 1, "referring.domains": 1, "new.count": 1, "lost.count": 1,
              "broken.count": 1, "data_as_of": 1}  # fmt: skip
    rows = list(db[PROFILES].find({}, fields, sort=[("authority", -1), ("_id", 1)], limit=HOME_ROWS))
    return {"profiles": rows, "total": db[PROFILES].estimated_document_count(), "shown": len(rows)}


def runs(db: Any, domain: str) -> list[dict[str, Any]]:
    return history.runs(db, domain)


def link_page(db: Any, table: LinkTable, condition: dict[str, Any], sort_name: str, size: int,
              after: list[Any] | None, before: list[Any] | None) -> tuple[paging.Page, int]:  # fmt: skip
    """A page of the table and how many rows it holds in all; each row with its source domain's authority."""
    query = {**condition, "internal": {"$ne": True}}
    page = paging.fetch(db["links"], query, sort_name, LINK_SORTS[sort_name], size, after=after, before=before,
                        projection=LINK_ROW_FIELDS)  # fmt: skip
    scores = authorities(db, {row["source_domain"] for row in page.rows})
    for row in page.rows:
        row["authority"] = scores.get(row["source_domain"], 0.0)
        row["reason"] = row.pop("lost_reason", None)
        row.pop("_id")
    return page, db["links"].count_documents(query)


def link_export(condition: dict[str, Any], sort_name: str) -> list[dict[str, Any]]:
    """The export pipeline of exactly the rows of a link table, in its order, with the export's columns."""
    return [
        *link_stages(condition),
        {"$sort": dict(LINK_SORTS[sort_name])},
        {"$limit": EXPORT_ROW_CAP},
        {"$project": {"_id": 0, **dict.fromkeys(kinds.columns("backlinks"), 1)}},
    ]


def grouped_export(db: Any, kind: str, domain: str, filters: LinkFilters) -> list[dict[str, Any]]:
    """Referring domains or anchors as `linkcrawler export` computes them, capped."""
    return [*kinds.pipeline(db, kind, domain, filters), {"$limit": EXPORT_ROW_CAP}]


def anchor_page(db: Any, domain: str, filters: LinkFilters, size: int, after: list[Any] | None,
                before: list[Any] | None) -> tuple[paging.Page, int]:  # fmt: skip
    """A page of the anchors `linkcrawler export anchors` writes (the same rows, in its order), and how many."""
    unsorted = [stage for stage in kinds.pipeline(db, "anchors", domain, filters) if "$sort" not in stage]
    return paging.aggregate(db["links"], unsorted, "anchors", ANCHOR_SORT, size, after=after, before=before)


@dataclass(frozen=True)
class Gap:
    """An intersect question: competitors, the domains whose referring domains are left out, the least number
    of competitors a row links to (None: all), dofollow links only."""

    competitors: list[str]
    exclude: list[str]
    min_count: int | None = None
    follow: bool = False

    def stages(self) -> list[dict[str, Any]]:
        return intersect_stages(self.competitors, exclude=self.exclude, min_count=self.min_count,
                                follow=self.follow or None)  # fmt: skip


def intersect_page(db: Any, gap: Gap, size: int, after: list[Any] | None,
                   before: list[Any] | None) -> tuple[paging.Page, int]:  # fmt: skip
    """A page of `linkcrawler intersect`'s rows, in its order, and how many there are."""
    page, total = paging.aggregate(db["links"], gap.stages(), "intersect", INTERSECT_ORDER, size, after=after,
                                   before=before)  # fmt: skip
    page.rows = [intersect_row(row) for row in page.rows]
    return page, total


def intersect_export(db: Any, gap: Gap) -> Iterator[dict[str, Any]]:
    """Every row of the intersect (up to the export cap), in its order, as `linkcrawler intersect` gives them."""
    stages = [*gap.stages(), {"$sort": dict(INTERSECT_ORDER)}, {"$limit": EXPORT_ROW_CAP}]
    return (intersect_row(row) for row in db["links"].aggregate(stages, allowDiskUse=True))


def authorities(db: Any, domains: set[str]) -> dict[str, float]:
    found = db[PROFILES].find({"_id": {"$in": sorted(domains)}}, {"authority": 1})
    return {row["_id"]: row["authority"] for row in found}


def referring_page(db: Any, domain: str, risk: dict[str, Any], sort_name: str, size: int,
                   after: list[Any] | None, before: list[Any] | None) -> tuple[paging.Page, int]:  # fmt: skip
    """A page of `referring_domains` rows with first and last seen (one aggregation over the page's domains),
    authority and risk flags."""
    base = {"target": {"$eq": domain}}
    page = paging.fetch(db[REFERRING], base, sort_name, REFERRING_SORTS[sort_name], size, after=after, before=before)
    sources = sorted(row["source"] for row in page.rows)
    seen = {
        row["_id"]: row
        for row in db["links"].aggregate([
            {"$match": {"target_domain": {"$eq": domain}, "live": True, "source_domain": {"$in": sources},
                        "internal": {"$ne": True}}},
            {"$group": {"_id": "$source_domain", "first_seen": {"$min": "$first_seen"},
                        "last_seen": {"$max": "$last_seen"}}},
        ])
    }  # fmt: skip
    scores = authorities(db, set(sources))
    flags = {row["domain"]: row["flags"] for row in risk.get("referring_domains", [])}
    for row in page.rows:
        source = row["source"]
        row.update(domain=source, dofollow=row.get("follow", 0), authority=scores.get(source, 0.0),
                   first_seen=seen.get(source, {}).get("first_seen"), last_seen=seen.get(source, {}).get("last_seen"),
                   flags=flags.get(source, {}))  # fmt: skip
        for name in ("_id", "target", "source", "follow"):
            row.pop(name, None)
    return page, db[REFERRING].count_documents(base)


def page_links(db: Any, url: str) -> dict[str, Any]:
    """One URL: its page document, the links it carries and the links pointing to it (live and lost)."""
    normalized = normalize_seed(url) if "://" in url else None
    if not normalized:
        raise BadParam("url", f"{url[:80]!r} is not an http(s) URL")
    fields = {**LINK_ROW_FIELDS, "_id": 0}
    shown = {"status": 1, "fetched_at": 1, "first_fetched": 1, "redirect_to": 1, "canonical": 1}
    page = db["pages"].find_one({"_id": {"$eq": normalized}}, shown)
    sort = [("first_seen", -1), *TIE[:2]]
    outgoing = list(db["links"].find({"source_url": {"$eq": normalized}}, fields, sort=sort, limit=URL_ROWS))
    incoming = list(db["links"].find({"target_url": {"$eq": normalized}}, fields, sort=sort, limit=URL_ROWS))
    for row in (*outgoing, *incoming):
        row["reason"] = row.pop("lost_reason", None)
    return {"url": normalized, "page": page, "outgoing": outgoing, "incoming": incoming,
            "outgoing_total": db["links"].count_documents({"source_url": {"$eq": normalized}}),
            "incoming_total": db["links"].count_documents({"target_url": {"$eq": normalized}})}  # fmt: skip
