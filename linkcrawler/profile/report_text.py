"""The terminal report of one profile: rich tables with the numbers and the top lists."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table

from linkcrawler.terminal import DataConsole

ROWS = 10
"""Rows per top list: a screenful; `--json` and `--html` carry more."""


def render(console: DataConsole, profile: dict[str, Any]) -> None:
    """Print the tables; a `DataConsole`, because anchors and URLs in them are written by whoever links."""
    console.print(Group(*tables(profile)))


def tables(profile: dict[str, Any]) -> list[Table]:
    links, referring = profile["backlinks"], profile["referring"]
    follow = profile["referring_domains_by_follow"]
    since = profile["since"]
    changes = f"new / lost since {since:%Y-%m-%d %H:%M}" if since else "new / lost (first run: all)"
    headline = _pairs(
        f"{profile['domain']}: data as of {profile['data_as_of']:%Y-%m-%d %H:%M}",
        [
            ("authority (0-100)", profile["authority"]),
            ("backlinks (live / all-time)", f"{links['live']:,} / {links['all_time']:,}"),
            ("dofollow / not followed links", f"{links['dofollow']:,} / {links['not_followed']:,}"),
            ("rel nofollow / ugc / sponsored", f"{links['nofollow']:,} / {links['ugc']:,} / {links['sponsored']:,}"),
            ("referring domains", f"{referring['domains']:,}"),
            ("  with a dofollow link / nofollow only", f"{follow['dofollow']:,} / {follow['nofollow']:,}"),
            ("referring pages / hosts", f"{referring['pages']:,} / {referring['hosts']:,}"),
            ("referring IPs / subnets", f"{referring['ips']:,} / {referring['subnets']:,}"),
            (changes, f"{profile['new']['count']:,} / {profile['lost']['count']:,}"),
            ("broken backlinks", profile["broken"]["count"]),
        ],
    )  # fmt: skip
    anchors = _rows(
        "Top anchors", ("anchor", "class", "links", "ref. domains"),
        [(a["anchor"] or "(empty)", a["class"], a["links"], a["referring_domains"]) for a in profile["anchors"]["top"]],
    )  # fmt: skip
    classes = _pairs("Anchor classes", list(profile["anchors"]["classes"].items()))
    referrers = _rows(
        "Top referring domains", ("domain", "authority", "links", "dofollow"),
        [(r["domain"], r["authority"], r["links"], r["dofollow"]) for r in profile["top_referring_domains"]],
    )  # fmt: skip
    pages = _rows(
        "Top pages", ("page", "ref. domains", "backlinks"),
        [(p["url"], p["referring_domains"], p["backlinks"]) for p in profile["top_pages"]],
    )  # fmt: skip
    kinds = _pairs("Link types", sorted(profile["link_types"].items()))
    positions = _pairs("Positions", sorted(profile["positions"].items()))
    tlds = _pairs("Referrer TLDs", [(t["tld"], t["referring_domains"]) for t in profile["tlds"]])
    flagged = profile.get("risk", {"flagged": 0, "referring_domains": []})  # none in profiles from before risk flags
    risk = _rows(
        f"Link risk: {flagged['flagged']:,} flagged referring domains (evidence: --json)", ("domain", "flags", "links"),
        [(r["domain"], ", ".join(r["flags"]), r["links"]) for r in flagged["referring_domains"]],
    )  # fmt: skip
    return [headline, classes, anchors, referrers, pages, kinds, positions, tlds, risk]


def _pairs(title: str, rows: list[tuple[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column()
    table.add_column(justify="right")
    for key, value in rows[:ROWS]:
        table.add_row(str(key), f"{value:,}" if isinstance(value, int) else str(value))
    return table


def _rows(title: str, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        numeric = bool(rows) and isinstance(rows[0][i], int | float)
        table.add_column(header, justify="right" if numeric else "left", overflow="fold")
    for row in rows[:ROWS]:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    return table
