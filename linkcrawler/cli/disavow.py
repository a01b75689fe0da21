"""`linkcrawler disavow DOMAIN [--min-flags K] [--allow FILE] [--output FILE]`: a disavow file from risk flags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from linkcrawler.cli.app import app
from linkcrawler.cli.summarize import database_from
from linkcrawler.errors import UserError
from linkcrawler.profile.disavow import MAX_BYTES, MAX_LINES, disavow_file
from linkcrawler.profile.job import PROFILES
from linkcrawler.profile.names import domain_of


def _read_allow_list(path: Path) -> list[str]:
    """Domains (or URLs, hosts) one per line, `#` comments: each as its registered domain."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read allow list {path}: {exc}") from None
    domains = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text and not text.startswith("#"):
            try:
                domains.append(domain_of(text.removeprefix("domain:")))
            except UserError as exc:
                raise UserError(f"allow list {path}:{number}: {exc}; nothing was written") from None
    return domains


@app.command("disavow")
def disavow(
    domain: Annotated[str, typer.Argument(help="The domain whose backlinks to judge (URL or host accepted).")],
    min_flags: Annotated[int, typer.Option(min=1, help="Only referring domains with at least this many flags.")] = 2,
    allow: Annotated[Path | None, typer.Option(help="Domains never to disavow, one per line (# comments).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
) -> None:
    """Write a disavow file in Google's format from the risk flags of the domain's stored profile."""
    name = domain_of(domain)
    allowed = _read_allow_list(allow) if allow is not None else []
    db: Any = database_from(mongo_uri, database)
    profile = db[PROFILES].find_one({"_id": name})
    if profile is None:
        raise UserError(f"no profile for {name}: it has no stored backlinks, or `linkcrawler summarize` has not run")
    if "risk" not in profile:
        raise UserError(f"the profile of {name} has no risk flags: run `linkcrawler summarize` again")
    result = disavow_file(profile, min_flags, allowed)
    if result.entries < result.candidates:
        typer.echo(
            f"linkcrawler: wrote {result.entries} of {result.candidates} entries: "
            f"a disavow file holds at most {MAX_LINES:,} lines and {MAX_BYTES:,} bytes",
            err=True,
        )
    if output is None:
        typer.echo(result.text, nl=False)
        return
    try:
        output.write_text(result.text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {result.entries} domain(s) to disavow to {output}")
