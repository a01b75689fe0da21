"""One function per page. Each reads its parameters (`params`), runs its queries (`reads`) and answers in the
format asked for (`render`): the page, its JSON twin, or "export these rows"."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from linkcrawler.errors import UserError
from linkcrawler.explorer import paging, params, reads, render
from linkcrawler.explorer.params import BadParam
from linkcrawler.export import kinds
from linkcrawler.frontier.stats import crawl_health, pages_per_minute
from linkcrawler.profile import report_html
from linkcrawler.profile.disavow import disavow_file
from linkcrawler.profile.names import domain_of
from linkcrawler.profile.risk import describe_flags
from linkcrawler.query import LinkFilters

LINK_KINDS = {
    "backlinks": ("backlinks", ["newest", "oldest", "source"]),
    "new": ("new", ["newest", "oldest", "source"]),
    "lost": ("lost", ["lost", "newest", "oldest"]),
    "broken": ("broken", ["newest", "oldest", "source"]),
    "outgoing": ("outlinks", ["newest", "oldest"]),
}
"""Each link table: the export kind it is, and its sorts (the first is the default)."""
RATE_MINUTES = 15
"""Minutes of the home page's pages-per-minute chart (UTC labels; Redis keeps `PAGES_PER_MINUTE_KEPT`)."""
TITLES = {"backlinks": "Backlinks", "new": "New links", "lost": "Lost links", "broken": "Broken backlinks",
          "outgoing": "Outgoing links"}  # fmt: skip
INTERSECT_COLUMNS = ("domain", "count", "authority", "links", "competitors")
"""The columns of the intersect's JSON lines: the rows of `linkcrawler intersect --json`."""


@dataclass
class Sources:
    """What the explorer reads: the database, and Redis when one is configured (None otherwise)."""

    db: Any
    mongo_label: str
    redis: Any = None
    redis_label: str | None = None


def home(request: Request, sources: Sources, fmt: str) -> Response:
    crawl = crawl_status(sources)
    data = {**reads.home(sources.db), "crawl": crawl}
    return render.answer(request, fmt, "home.html", data, {"rate_chart": rate_chart(crawl)})


def crawl_status(sources: Sources) -> dict[str, Any]:
    """`linkcrawler stats` numbers and the last minutes' pages when Redis is configured and answers; otherwise
    why not, and how to fix it."""
    if sources.redis is None:
        return {"available": False, "why": "no Redis configured: pass --redis-url or set REDIS_URL to see the crawl"}
    try:
        minutes = [{"minute": datetime.fromtimestamp(minute * 60, UTC), "pages": pages}
                   for minute, pages in pages_per_minute(sources.redis, RATE_MINUTES)]  # fmt: skip
        return {"available": True, **crawl_health(sources.redis).as_dict(), "pages_per_minute": minutes}
    except Exception as exc:  # any redis-py failure: the page says so and the rest of it still works
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {"available": False, "why": f"Redis at {sources.redis_label} did not answer ({first}): start it"}


def rate_chart(crawl: dict[str, Any]) -> Any:
    """Pages per minute over the last minutes (the current one still counting), or None without a crawl."""
    if not crawl["available"]:
        return None
    points = [(entry["minute"].strftime("%H:%M"), entry["pages"]) for entry in crawl["pages_per_minute"]]
    return render.chart(report_html.line_chart(points, width=640))


def search(request: Request, sources: Sources, fmt: str) -> Response:
    text = params.text(request.query_params, "q", 2000)
    if text is None:
        raise BadParam("q", "type a domain, host or URL")
    try:
        domain = domain_of(text)
    except UserError as exc:
        raise BadParam("q", str(exc)) from None
    return RedirectResponse(f"/d/{quote(domain)}", 303)


def overview(request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str) -> Response:
    runs = reads.runs(sources.db, domain)
    links = profile["backlinks"]
    follow = [("dofollow", links["dofollow"]), ("not followed", links["not_followed"]),
              *((f"rel={flag}", links[flag]) for flag in ("nofollow", "ugc", "sponsored"))]  # fmt: skip
    labels = [report_html._short(r["data_as_of"]) for r in runs]

    def trend(key: str) -> str:
        return report_html.line_chart([(label, r[key]) for label, r in zip(labels, runs, strict=True)])

    def bars(counts: dict[str, int]) -> str:
        return report_html.bar_chart(sorted(counts.items(), key=lambda kv: -kv[1]))

    charts = [
        ("Referring domains over runs", trend("referring_domains")),
        ("Live backlinks over runs", trend("backlinks")),
        (
            "New and lost per run",
            report_html.paired_bars([(lab, r["new"], r["lost"]) for lab, r in zip(labels, runs, strict=True)]),
        ),
        ("Follow and nofollow (links)", report_html.bar_chart(follow)),
        ("Anchor classes", bars(profile["anchors"]["classes"])),
        ("Link types", bars(profile["link_types"])),
        ("Positions", bars(profile["positions"])),
        (
            "Referring domains by TLD",
            report_html.bar_chart([(t["tld"], t["referring_domains"]) for t in profile["tlds"][:10]]),
        ),
    ]
    extra = {"charts": [(title, render.chart(svg)) for title, svg in charts], "view": "overview"}
    return render.answer(request, fmt, "overview.html", {"domain": domain, "profile": profile, "runs": runs}, extra)


def link_table(
    request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str, view: str
) -> Response:
    query = request.query_params
    kind, sorts = LINK_KINDS[view]
    state = params.choice(query, "state", list(reads.STATES), "live") if view == "backlinks" else "live"
    table = reads.LinkTable(kind, domain, params.link_filters(query), state, params.date(query, "since"),
                            params.date(query, "until"))  # fmt: skip
    sort_name = params.choice(query, "sort", sorts, sorts[0])
    condition = table.condition(profile)
    if fmt in ("csv", "jsonl"):
        rows = sources.db["links"].aggregate(reads.link_export(condition, sort_name), allowDiskUse=True)
        return render.export(rows, kinds.columns("backlinks"), fmt, f"{domain}-{view}")
    size = params.page_size(query)
    after, before = _tokens(query, sort_name, reads.LINK_SORTS[sort_name])
    page, total = reads.link_page(sources.db, table, condition, sort_name, size, after, before)
    data = {"domain": domain, "view": view, "total": total, "rows": page.rows, "next": page.next,
            "previous": page.previous, "sort": sort_name, "state": state}  # fmt: skip
    extra = {"title": TITLES[view], "sorts": sorts, "states": list(reads.STATES), "query": query,
             "since": profile.get("since"), "link_types": _known("link_types", profile),
             "positions": _known("positions", profile)}  # fmt: skip
    return render.answer(request, fmt, "links.html", data, extra)


def referring_domains(request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str) -> Response:
    query = request.query_params
    if fmt in ("csv", "jsonl"):
        stages = reads.grouped_export(sources.db, "referring-domains", domain, LinkFilters())
        rows = sources.db["links"].aggregate(stages, allowDiskUse=True)
        return render.export(rows, kinds.columns("referring-domains"), fmt, f"{domain}-referring-domains")
    sort_name = params.choice(query, "sort", list(reads.REFERRING_SORTS), "links")
    size = params.page_size(query)
    after, before = _tokens(query, sort_name, reads.REFERRING_SORTS[sort_name])
    page, total = reads.referring_page(sources.db, domain, profile.get("risk", {}), sort_name, size, after, before)
    data = {"domain": domain, "view": "referring-domains", "total": total, "rows": page.rows, "next": page.next,
            "previous": page.previous, "sort": sort_name}  # fmt: skip
    return render.answer(request, fmt, "referring.html", data, {"sorts": list(reads.REFERRING_SORTS)})


def anchors(request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str) -> Response:
    query = request.query_params
    filters = params.link_filters(query)
    if fmt in ("csv", "jsonl"):
        stages = reads.grouped_export(sources.db, "anchors", domain, filters)
        return render.export(sources.db["links"].aggregate(stages, allowDiskUse=True), kinds.columns("anchors"), fmt,
                             f"{domain}-anchors")  # fmt: skip
    size = params.page_size(query)
    after, before = _tokens(query, "anchors", reads.ANCHOR_SORT)
    page, total = reads.anchor_page(sources.db, domain, filters, size, after, before)
    classes, distinct = profile["anchors"]["classes"], profile["anchors"]["distinct"]
    data = {"domain": domain, "view": "anchors", "total": total, "rows": page.rows, "next": page.next,
            "previous": page.previous, "classes": classes, "distinct_casefolded": distinct}  # fmt: skip
    return render.answer(request, fmt, "anchors.html", data, {"query": query})


def top_pages(request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str) -> Response:
    data = {"domain": domain, "view": "top-pages", "rows": profile["top_pages"]}
    return render.answer(request, fmt, "top_pages.html", data)


def risk(request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str) -> Response:
    section = profile.get("risk", {"flagged": 0, "referring_domains": [], "thresholds": {}})
    data = {"domain": domain, "view": "risk", "risk": section}
    return render.answer(request, fmt, "risk.html", data, {"describe": describe_flags})


def disavow(request: Request, sources: Sources, domain: str, profile: dict[str, Any], fmt: str) -> Response:
    text = request.query_params.get("min_flags", "2")
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise BadParam("min_flags", f"{text[:20]!r} is not a number of flags from 1 to 10")
    if "risk" not in profile:
        raise BadParam("domain", f"the profile of {domain} has no risk flags: run `linkcrawler summarize` again")
    result = disavow_file(profile, int(text), [])
    headers = {"Content-Disposition": f'attachment; filename="{domain}-disavow.txt"'}
    return PlainTextResponse(result.text, headers=headers)


def compare(request: Request, sources: Sources, fmt: str) -> Response:
    names = [value for value in request.query_params.getlist("d") if value.strip()]
    if len(names) > reads.COMPARE_MAX:
        raise BadParam("d", f"compare at most {reads.COMPARE_MAX} domains, not {len(names)}")
    domains = list(dict.fromkeys(_domain("d", name) for name in names))
    profiles = [reads.profile(sources.db, name) for name in domains]
    return render.answer(request, fmt, "compare.html", {"domains": domains, "profiles": profiles})


def intersect(request: Request, sources: Sources, fmt: str) -> Response:
    query = request.query_params
    rivals = [_domain("c", name) for name in query.getlist("c") if name.strip()]
    mine = [_domain("not", name) for name in query.getlist("not") if name.strip()]
    text = query.get("min", "")
    if text and not text.isdigit():
        raise BadParam("min", f"{text[:20]!r} is not a whole number")
    gap = reads.Gap(rivals, mine, int(text) if text else None, params.choice(query, "follow", ["", "1"], "") == "1")
    if fmt in ("csv", "jsonl"):
        return _gap_export(sources, gap, fmt)
    size = params.page_size(query)
    after, before = _tokens(query, "intersect", reads.INTERSECT_ORDER)
    page, total = paging.Page([], None, None), 0
    if rivals:
        with _gap_errors():
            page, total = reads.intersect_page(sources.db, gap, size, after, before)
    data = {"competitors": rivals, "exclude": mine, "total": total, "rows": page.rows, "next": page.next,
            "previous": page.previous}  # fmt: skip
    return render.answer(request, fmt, "intersect.html", data, {"query": query})


def _gap_export(sources: Sources, gap: reads.Gap, fmt: str) -> Response:
    """Every row of the intersect; as CSV, the columns of `linkcrawler intersect --csv` (the count as
    `competitors`, then each competitor's first linking URL), one column per competitor asked about."""
    if not gap.competitors:
        raise BadParam("c", "name at least one competitor domain")
    with _gap_errors():
        rows = reads.intersect_export(sources.db, gap)
        if fmt == "jsonl":
            return render.export(rows, INTERSECT_COLUMNS, fmt, "intersect")
        rivals = sorted(set(gap.competitors))
        flat = ({**row, "competitors": row["count"], **{c["domain"]: c["url"] for c in row["competitors"]}}
                for row in rows)  # fmt: skip
        return render.export(flat, ("domain", "competitors", "authority", "links", *rivals), fmt, "intersect")


@contextlib.contextmanager
def _gap_errors() -> Iterator[None]:
    """The intersect's refusals (a competitor also excluded, a --min out of range) as the parameter they name."""
    try:
        yield
    except UserError as exc:
        raise BadParam("min" if "--min" in str(exc) else "c", str(exc)) from None


def page(request: Request, sources: Sources, fmt: str) -> Response:
    url = params.text(request.query_params, "url", 2048)
    if url is None:
        raise BadParam("url", "give the URL of one page: /page?url=https://example.com/")
    return render.answer(request, fmt, "page.html", reads.page_links(sources.db, url))


def _tokens(query: Any, sort_name: str, sort: paging.Sort) -> tuple[list[Any] | None, list[Any] | None]:
    after = query.get("after")
    before = query.get("before")
    if after and before:
        raise BadParam("before", "give after or before, not both")
    return (paging.decode("after", after, sort_name, sort) if after else None,
            paging.decode("before", before, sort_name, sort) if before else None)  # fmt: skip


def _known(section: str, profile: dict[str, Any]) -> list[str]:
    return sorted(profile.get(section, {}))


def _domain(parameter: str, text: str) -> str:
    try:
        return domain_of(text)
    except UserError as exc:
        raise BadParam(parameter, str(exc)) from None


DOMAIN_VIEWS = {
    "overview": overview,
    "referring-domains": referring_domains,
    "anchors": anchors,
    "top-pages": top_pages,
    "risk": risk,
    "disavow": disavow,
    **{name: functools.partial(link_table, view=name) for name in LINK_KINDS},
}
"""The pages of one domain, by the last segment of their path."""
