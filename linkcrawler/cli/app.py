"""The `linkcrawler` Typer application that every command module registers on."""

import typer

app = typer.Typer(
    name="linkcrawler",
    help="Self-hosted backlink crawler: seed the shared frontier, run the demo, inspect links.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
