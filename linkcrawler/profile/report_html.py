"""A self-contained HTML report of one profile: tables and inline SVG charts, no external assets.

Everything is in one file (styles inline, charts drawn as SVG elements), so
it opens offline, can be mailed, and loads nothing from anywhere: URLs from
the link table appear as text only, never as links or sources. All text is
escaped. `render_index` is the page listing many profiles, each linking to
its own report file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from linkcrawler.profile.risk import describe_flags

ROWS = 20
"""Rows per table: the report is a summary; `--json` and linkcrawler.query give everything."""
COLOURS = ("#2563eb", "#f97316", "#16a34a", "#9333ea", "#64748b", "#dc2626")
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #0f172a; }
h1 { margin-bottom: 0; } .muted { color: #64748b; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 1em 0; }
.card { border: 1px solid #e2e8f0; border-radius: 8px; padding: 8px 14px; min-width: 110px; }
.card b { display: block; font-size: 22px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
figure { margin: 0; border: 1px solid #e2e8f0; border-radius: 8px; padding: 10px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1.5em; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e2e8f0; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.u { word-break: break-all; }
svg text { font: 12px system-ui, sans-serif; fill: #0f172a; }
"""


def render(profile: dict[str, Any], runs: Sequence[dict[str, Any]]) -> str:
    """The report of `profile` (a `domain_profiles` document) with `runs` (its history, oldest first)."""
    domain = escape(profile["domain"])
    links, referring = profile["backlinks"], profile["referring"]
    cards = [
        ("Authority", profile["authority"]), ("Backlinks", links["live"]), ("All-time backlinks", links["all_time"]),
        ("Referring domains", referring["domains"]), ("Referring pages", referring["pages"]),
        ("Referring IPs", referring["ips"]), ("Referring subnets", referring["subnets"]),
        ("New", profile["new"]["count"]), ("Lost", profile["lost"]["count"]), ("Broken", profile["broken"]["count"]),
    ]  # fmt: skip
    follow = [("dofollow", links["dofollow"]), ("not followed", links["not_followed"]),
              ("rel=nofollow", links["nofollow"]), ("rel=ugc", links["ugc"]),
              ("rel=sponsored", links["sponsored"])]  # fmt: skip
    charts = [
        ("Anchor classes", bar_chart(sorted(profile["anchors"]["classes"].items(), key=lambda kv: -kv[1]))),
        ("Follow vs nofollow (links)", bar_chart(follow)),
        ("Referring domains over runs", line_chart([(_short(r["data_as_of"]), r["referring_domains"]) for r in runs])),
        ("New vs lost per run", paired_bars([(_short(r["data_as_of"]), r["new"], r["lost"]) for r in runs])),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Backlink profile: {domain}</title><style>{STYLE}</style></head><body>",
        f"<h1>{domain}</h1>",
        f'<p class="muted">data as of {_day(profile["data_as_of"])} UTC; computed {_day(profile["computed_at"])}; '
        f"new and lost since {_day(profile['since']) or 'the first run'}</p>",
        '<div class="cards">',
        *(f'<div class="card"><span>{escape(k)}</span><b>{_num(v)}</b></div>' for k, v in cards),
        '</div><div class="charts">',
        *(f"<figure><figcaption>{escape(t)}</figcaption>{svg}</figure>" for t, svg in charts),
        "</div>",
        *_tables(profile),
        "</body></html>",
    ]  # fmt: skip
    return "\n".join(parts)


def _tables(profile: dict[str, Any]) -> list[str]:
    anchors = [
        (a["anchor"] or "(empty)", a["class"], a["links"], a["referring_domains"]) for a in profile["anchors"]["top"]
    ]
    referrers = [(r["domain"], r["authority"], r["links"], r["dofollow"]) for r in profile["top_referring_domains"]]
    pages = [(p["url"], p["referring_domains"], p["backlinks"]) for p in profile["top_pages"]]
    new = [(x["source_url"], x["target_url"], x["anchor"], _day(x["first_seen"])) for x in profile["new"]["links"]]
    lost = [(x["source_url"], x["target_url"], x["reason"], _day(x["lost_at"])) for x in profile["lost"]["links"]]
    broken = [(x["source_url"], x["target_url"], x["target_status"]) for x in profile["broken"]["links"]]
    flagged = profile.get("risk", {}).get("referring_domains", [])  # none in profiles from before risk flags
    risk = [(r["domain"], describe_flags(r["flags"]), r["links"]) for r in flagged]
    return [
        _table("Top anchors", ("anchor", "class", "links", "referring domains"), anchors[:ROWS]),
        _table("Top referring domains", ("domain", "authority", "links", "dofollow"), referrers[:ROWS]),
        _table("Top pages", ("page", "referring domains", "backlinks"), pages[:ROWS]),
        _table("Link types", ("type", "links"), sorted(profile["link_types"].items())),
        _table("Positions", ("position", "links"), sorted(profile["positions"].items())),
        _table(
            "Referrer TLDs", ("tld", "referring domains"), [(t["tld"], t["referring_domains"]) for t in profile["tlds"]]
        ),
        _table("New links", ("from", "to", "anchor", "first seen"), new[:ROWS]),
        _table("Lost links", ("from", "to", "reason", "lost"), lost[:ROWS]),
        _table("Broken backlinks", ("from", "to", "status"), broken[:ROWS]),
        _table("Link risk (most flags first)", ("referring domain", "flags and evidence", "links"), risk[:ROWS]),
    ]


def render_index(profiles: Sequence[dict[str, Any]], href: Callable[[str], str]) -> str:
    """One table of `profiles` by authority, each domain linking to `href(domain)`, its report."""
    ranked = sorted(profiles, key=lambda p: (-p["authority"], p["domain"]))
    headers = ("domain", "authority", "backlinks", "referring domains", "dofollow", "new", "lost", "broken")
    head = "".join(f"<th{'' if i == 0 else ' class=n'}>{escape(h)}</th>" for i, h in enumerate(headers))
    rows = "".join(
        f'<tr><td><a href="{escape(href(p["domain"]))}">{escape(p["domain"])}</a></td>'
        + "".join(f'<td class="n">{_num(v)}</td>' for v in _index_numbers(p))
        + "</tr>"
        for p in ranked
    )
    as_of = max((p["data_as_of"] for p in profiles), default=None)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Backlink profiles</title><style>{STYLE}</style></head><body>",
        f"<h1>{len(ranked)} profiled domains</h1>",
        f'<p class="muted">data as of {_day(as_of)} UTC; by authority; each domain opens its report</p>',
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>",
        "</body></html>",
    ])  # fmt: skip


def _index_numbers(profile: dict[str, Any]) -> tuple[float, ...]:
    links = profile["backlinks"]
    return (profile["authority"], links["live"], profile["referring"]["domains"], links["dofollow"],
            profile["new"]["count"], profile["lost"]["count"], profile["broken"]["count"])  # fmt: skip


def bar_chart(items: Sequence[tuple[str, float]], width: int = 480) -> str:
    """Horizontal bars, one per (label, value), each labelled with its value."""
    row, label_width = 24, 110
    height = row * max(1, len(items)) + 10
    top = max((value for _, value in items), default=0) or 1
    span = width - label_width - 60
    bars = []
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        length = span * value / top
        bars.append(
            f'<text x="0" y="{y + 15}">{escape(str(label))}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{row - 6}" '
            f'fill="{COLOURS[i % len(COLOURS)]}"><title>{escape(str(label))}: {_num(value)}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}">{_num(value)}</text>'
        )
    return _svg(width, height, "".join(bars))


def line_chart(points: Sequence[tuple[str, float]], width: int = 480, height: int = 200) -> str:
    """A line through (label, value) points in order, each point marked and labelled."""
    if not points:
        return _svg(width, 40, '<text x="0" y="20">no runs yet</text>')
    left, bottom, top_margin = 50, 30, 20
    top = max(value for _, value in points) or 1
    step = (width - 2 * left) / max(1, len(points) - 1)
    coords = [
        (left + i * step, top_margin + (height - bottom - top_margin) * (1 - value / top))
        for i, (_, value) in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{COLOURS[0]}"/>'
        f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">{_num(value)}</text>'
        f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>'
        for (x, y), (label, value) in zip(coords, points, strict=True)
    )
    return _svg(width, height, f'<polyline points="{path}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>{marks}')


def paired_bars(runs: Sequence[tuple[str, float, float]], width: int = 480, height: int = 200) -> str:
    """Two vertical bars per run: new (first colour) and lost (second colour)."""
    if not runs:
        return _svg(width, 40, '<text x="0" y="20">no runs yet</text>')
    bottom, top_margin = 30, 36
    top = max(max(new, lost) for _, new, lost in runs) or 1
    slot = (width - 20) / len(runs)
    bar = min(40.0, slot / 3)
    shapes = [
        f'<rect x="10" y="2" width="10" height="10" fill="{COLOURS[2]}"/><text x="24" y="11">new</text>'
        f'<rect x="64" y="2" width="10" height="10" fill="{COLOURS[5]}"/><text x="78" y="11">lost</text>'
    ]
    for i, (label, new, lost) in enumerate(runs):
        centre = 10 + slot * (i + 0.5)
        for offset, value, colour in ((-bar, new, COLOURS[2]), (0.0, lost, COLOURS[5])):
            h = (height - bottom - top_margin) * value / top
            x, y = centre + offset, height - bottom - h
            shapes.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}"/>'
                f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{_num(value)}</text>'
            )
        shapes.append(f'<text x="{centre:.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, "".join(shapes))


def _svg(width: int, height: int, body: str) -> str:
    return f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">{body}</svg>'


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    numeric = [all(isinstance(row[i], int | float) for row in rows) and rows for i in range(len(headers))]
    head = "".join(f"<th{' class=n' if numeric[i] else ''}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if numeric[i] else "u"}">{_num(v) if numeric[i] else escape(str(v))}</td>'
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    empty = "" if rows else f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>'
    return f"<h2>{escape(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}{empty}</tbody></table>"


def _num(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}" if isinstance(value, int | float) else escape(str(value))


def _day(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "")


def _short(value: Any) -> str:
    """A run's label under a chart: month, day and time (the year is in the heading)."""
    return value.strftime("%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "")
