"""`linkcrawler profile DOMAIN [--json] [--html FILE]`: one domain's stored backlink profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from linkcrawler.cli.app import app
from linkcrawler.cli.summarize import database_from
from linkcrawler.errors import UserError
from linkcrawler.profile import history, jsonout, report_html, report_text
from linkcrawler.profile.job import PROFILES
from linkcrawler.profile.names import domain_of
from linkcrawler.terminal import DataConsole


@app.command("profile")
def profile(
    domain: Annotated[str, typer.Argument(help="A domain, host or URL, any case.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored profile document as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Show the backlink profile `linkcrawler summarize` stored for a domain."""
    name = domain_of(domain)
    db: Any = database_from(mongo_uri, database)
    document = db[PROFILES].find_one({"_id": name})
    if document is None:
        raise UserError(f"no profile for {name}: it has no stored backlinks, or `linkcrawler summarize` has not run")
    if html is not None:
        try:
            html.write_text(report_html.render(document, history.runs(db, name)), encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {html}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {html}")
    if as_json:
        typer.echo(jsonout.dumps(document))
    elif html is None:
        report_text.render(DataConsole(), document)
