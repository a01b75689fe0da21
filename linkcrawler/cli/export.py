"""`linkcrawler export KIND DOMAIN [filters] [--format csv|jsonl] [--output F]`: every matching row.

Rows stream from a server-side cursor to stdout or to a file; a file is
written next to its final name and moved into place when complete, so a
failed export never leaves half a file under the name asked for.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from pymongo.errors import PyMongoError

from linkcrawler.cli.app import app
from linkcrawler.cli.migrate import upgraded
from linkcrawler.cli.summarize import database_from
from linkcrawler.errors import UserError
from linkcrawler.export import formats, kinds
from linkcrawler.query import LinkFilters
from linkcrawler.terminal import printable


def parse_date(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 date or date-time (UTC unless it names an offset)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{option} {text!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def write_rows(write: Callable[[TextIO], int], output: Path | None, bom: bool) -> int:
    """Run `write(stream)` into stdout, or into `output` through a temporary file moved into place at the end."""
    if output is None:
        return write(sys.stdout)
    directory = output.resolve().parent
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        encoding = "utf-8-sig" if bom else "utf-8"
        with os.fdopen(handle, "w", encoding=encoding, newline="") as stream:
            count = write(stream)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _printable(row: dict[str, Any]) -> dict[str, Any]:
    """A row for a terminal: control characters in its text shown as escapes (JSON lines escape them already)."""
    return {name: printable(value) if isinstance(value, str) else value for name, value in row.items()}


@app.command("export")
def export(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(kinds.KINDS)}.")],
    domain: Annotated[str, typer.Argument(help="A domain or host (any case), or a URL for one page.")],
    follow: Annotated[
        bool | None, typer.Option("--follow/--nofollow", help="Only followed (dofollow) or only not followed links.")
    ] = None,
    link_type: Annotated[str | None, typer.Option("--type", help="Only this link type (text, image, ...).")] = None,
    position: Annotated[str | None, typer.Option(help="Only this position (content, nav, footer, ...).")] = None,
    anchor_contains: Annotated[str | None, typer.Option(help="Anchor contains this text (any case).")] = None,
    source_domain: Annotated[str | None, typer.Option(help="Only links from this domain.")] = None,
    since: Annotated[str | None, typer.Option(help="First seen (lost: lost) on or after this date.")] = None,
    until: Annotated[str | None, typer.Option(help="... and before this date.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Every backlink, referring domain, anchor, new, lost or broken link, or outlink of a domain, filtered."""
    if output_format not in formats.FORMATS:
        raise UserError(f"unknown format {output_format!r}: use csv or jsonl")
    filters = LinkFilters(follow, link_type, position, anchor_contains, source_domain)
    window = kinds.Window(parse_date(since, "--since"), parse_date(until, "--until"))
    db: Any = upgraded(database_from(mongo_uri, database))
    stages = kinds.pipeline(db, kind, domain, filters, window)
    columns = kinds.columns(kind)
    writer = formats.WRITERS[output_format]
    on_terminal = output is None and output_format == "csv" and sys.stdout.isatty()

    def write(stream: TextIO) -> int:
        rows = kinds.rows(db, stages)
        return writer(map(_printable, rows) if on_terminal else rows, columns, stream)

    try:
        count = write_rows(write, output, bom=output_format == "csv")
    except PyMongoError as exc:
        kept = f"; {output} was not written" if output is not None else ""
        raise UserError(f"the export stopped: {str(exc).splitlines()[0]}{kept}") from None
    if output is not None:
        typer.echo(f"wrote {count:,} {kind} row(s) to {output}", err=True)
