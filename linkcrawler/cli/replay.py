"""`linkcrawler replay DIR`: load journaled batches into MongoDB."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkcrawler.cli.app import app
from linkcrawler.cli.summarize import database_from
from linkcrawler.errors import UserError
from linkcrawler.store.journal import replay as replay_journal
from linkcrawler.store.linkstore import LinkStore


@app.command("replay")
def replay(
    directory: Annotated[Path, typer.Argument(help="The journal directory (MONGO_URI=journal:///DIR of the workers).")],
    mongo_uri: Annotated[str | None, typer.Option(help="Target MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Apply every journal file not yet replayed, through the same upserts a live worker uses."""
    if not directory.is_dir():
        raise UserError(f"journal directory {directory} does not exist")
    store = LinkStore(database_from(mongo_uri, database))
    store.ensure_indexes()
    result = replay_journal(directory, store)
    typer.echo(
        f"replayed {result.batches} batch(es) from {result.files} file(s): "
        f"{result.links} link and {result.pages} page observations"
        + (f"; skipped {result.truncated} batch(es) cut short by a killed worker" if result.truncated else "")
    )
