"""`linkcrawler replay DIR`: load journaled batches into MongoDB."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from linkcrawler import config
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
    """Apply every journal file not yet replayed, through the same upserts a live worker uses.

    Files a running worker still writes (it holds their lock) are left for a
    later replay; they are counted, not waited for. Replayed files are deleted
    `STORE_REPLAYED_RETENTION_DAYS` (default 7) after their replay.
    """
    if not directory.is_dir():
        raise UserError(f"journal directory {directory} does not exist")
    store = LinkStore(database_from(mongo_uri, database))
    store.ensure_indexes()
    retention = config.get(config.project_settings(), "STORE_REPLAYED_RETENTION_DAYS")
    result = replay_journal(directory, store, retention_days=retention)
    typer.echo(
        f"replayed {result.batches} batch(es) from {result.files} file(s): "
        f"{result.links} link and {result.pages} page observations"
        + (f"; skipped {result.truncated} batch(es) cut short by a killed worker" if result.truncated else "")
        + (f"; left {result.in_use} file(s) a running worker is still writing" if result.in_use else "")
        + (f"; deleted {result.removed} file(s) replayed over {retention:g} day(s) ago" if result.removed else "")
    )
