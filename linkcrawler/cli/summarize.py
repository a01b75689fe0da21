"""`linkcrawler summarize [--domain D ...]`: the post-crawl job that writes `domain_profiles`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from linkcrawler import config
from linkcrawler.cli.app import app
from linkcrawler.errors import UserError
from linkcrawler.profile.job import summarize as run_summarize
from linkcrawler.profile.names import domain_of
from linkcrawler.store.mongo import get_database


def database_from(mongo_uri: str | None, database: str | None) -> object:
    """The database named by the options, else by MONGO_URI / MONGO_DATABASE."""
    settings = config.project_settings()
    uri = mongo_uri or os.environ.get("MONGO_URI", "").strip()
    if not uri:
        raise UserError("no MongoDB given: set MONGO_URI or pass --mongo-uri")
    return get_database(uri, database or config.get(settings, "MONGO_DATABASE"))


@app.command("summarize")
def summarize(
    domain: Annotated[
        list[str] | None, typer.Option("--domain", "-d", help="Only this domain (URL or host accepted); repeatable.")
    ] = None,
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Compute the backlink profile of every target domain (or the given ones) into domain_profiles."""
    domains = sorted({domain_of(d) for d in domain}) if domain else None
    result = run_summarize(database_from(mongo_uri, database), domains)
    typer.echo(
        f"summarized {result.domains} domain(s) from {result.links:,} stored links "
        f"(data as of {result.data_as_of:%Y-%m-%d %H:%M:%S}) in {result.seconds:.1f} s"
    )
