"""`linkcrawler intersect COMPETITOR... --not MINE [--min N] [--follow] [--json|--csv]`: the link gap."""

from __future__ import annotations

import csv
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from linkcrawler.cli.app import app
from linkcrawler.cli.migrate import upgraded
from linkcrawler.cli.summarize import database_from
from linkcrawler.errors import UserError
from linkcrawler.export.formats import cell
from linkcrawler.profile import jsonout
from linkcrawler.query import intersect as run_intersect
from linkcrawler.terminal import DataConsole, printable


@app.command("intersect")
def intersect(
    competitors: Annotated[list[str], typer.Argument(help="Competitor domains (any number; URL or host accepted).")],
    exclude: Annotated[
        list[str] | None, typer.Option("--not", help="Your domain: referring domains linking to it are left out.")
    ] = None,
    min_count: Annotated[
        int | None, typer.Option("--min", help="Link to at least this many competitors (default: all).")
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", help="Count followed (dofollow) links only.")] = False,
    limit: Annotated[int, typer.Option(min=0, help="At most this many referring domains; 0: all.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array instead of a table.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV: one row per referring domain.")] = False,
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Referring domains that link to your competitors and not to you, most competitors first, then by authority."""
    if as_json and as_csv:
        raise UserError("give --json or --csv, not both")
    db: Any = upgraded(database_from(mongo_uri, database))
    rows = run_intersect(db, competitors, exclude=exclude or [], min_count=min_count, follow=follow or None,
                         limit=limit or None)  # fmt: skip
    if as_json:
        typer.echo(jsonout.dumps(rows))
    elif as_csv:
        _csv(rows, sorted({r["domain"] for row in rows for r in row["competitors"]}))
    else:
        _table(rows)


def _csv(rows: list[dict[str, Any]], rivals: list[str]) -> None:
    """domain, competitors, authority, links, then per competitor the first URL linking to it (empty if none).

    On a terminal, control characters in a cell are shown as escapes (`linkcrawler.terminal`).
    """
    shown = printable if sys.stdout.isatty() else str
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow([shown(name) for name in ("domain", "competitors", "authority", "links", *rivals)])
    for row in rows:
        urls = {r["domain"]: r["url"] for r in row["competitors"]}
        values = (row["domain"], row["count"], row["authority"], row["links"], *(urls.get(rival) for rival in rivals))
        writer.writerow([shown(cell(v)) for v in values])


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"{len(rows)} referring domain(s)", title_justify="left")
    for name in ("domain", "competitors", "authority", "links", "links to (first linking URL)"):
        numeric = name in ("competitors", "authority", "links")
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        reach = "\n".join(f"{r['domain']} ({r['links']}): {r['url']}" for r in row["competitors"])
        table.add_row(row["domain"], str(row["count"]), f"{row['authority']:.1f}", f"{row['links']:,}", reach)
    DataConsole().print(table)
