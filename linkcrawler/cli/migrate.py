"""`linkcrawler migrate`: give a database written by version 1 each link's state, once."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from linkcrawler.cli.app import app
from linkcrawler.cli.summarize import database_from
from linkcrawler.errors import UserError
from linkcrawler.store import migrate as upgrades


@app.command("migrate")
def migrate(
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Store each link's state (live or lost, broken) in a database written by an earlier version."""
    db = database_from(mongo_uri, database)
    if not upgrades.needs_upgrade(db):
        typer.echo("the database is up to date")
        return
    typer.echo(f"upgraded: the links of {upgrades.upgrade(db):,} page(s) now carry their state")


def upgraded(db: Any) -> Any:
    """`db`, refused in one line while it still needs `linkcrawler migrate` (its links carry no state yet)."""
    if upgrades.needs_upgrade(db):
        raise UserError("the database was written by an earlier version: run `linkcrawler migrate` first")
    return db
