"""`linkcrawler seed URL... [--file F] [--new-run] [--sitemaps]`: queue start URLs on the shared frontier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from linkcrawler.cli.app import app
from linkcrawler.config import project_settings
from linkcrawler.errors import UserError
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.seeds import push_seeds, start_new_run, validate_seeds
from linkcrawler.frontier.sitemaps import SitemapReader
from linkcrawler.terminal import printable


def _read_seed_file(path: Path) -> list[tuple[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read seed file {path}: {exc}") from None
    return [
        (f"{path}:{number}", line.strip())
        for number, line in enumerate(lines, 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


@app.command("seed")
def seed(
    urls: Annotated[list[str] | None, typer.Argument(help="Start URLs (http or https).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="A file of URLs, one per line; # starts a comment.")
    ] = None,
    new_run: Annotated[
        bool, typer.Option("--new-run", help="Start a new crawl run: revisit pages already crawled.")
    ] = False,
    sitemaps: Annotated[
        bool,
        typer.Option("--sitemaps", help="Also queue the URLs the seeds' sites list in their sitemaps."),
    ] = False,
    redis_url: Annotated[str | None, typer.Option(help="Redis URL (default: $REDIS_URL).")] = None,
) -> None:
    """Put start URLs on the shared frontier for `scrapy crawl backlinks` workers."""
    pairs = [("argument", url) for url in urls or []]
    if file is not None:
        pairs += _read_seed_file(file)
    if not pairs:
        raise UserError("no seeds given: pass URLs or --file FILE")
    valid = validate_seeds(pairs)
    settings = project_settings()
    server = redis_from_settings(settings, redis_url)
    listed = _sitemap_urls(settings, valid) if sitemaps else []
    if new_run:
        start_new_run(server)
    count = push_seeds(server, list(dict.fromkeys(valid + listed)))
    run = "new crawl run" if new_run else "current crawl run"
    found = f" ({len(listed)} from sitemaps)" if sitemaps else ""
    typer.echo(f"queued {count} seed URL(s) for the {run}{found}")


def _sitemap_urls(settings: object, seeds: list[str]) -> list[str]:
    """The URLs the sitemaps of the seeds' sites list; one line on stderr per sitemap skipped or bound reached.

    A line names URLs a server listed, so it is shown `printable`: a newline in one cannot forge a second line.
    """
    reader = SitemapReader(settings)
    one_per_site: dict[str, str] = {}
    for seed in seeds:
        one_per_site.setdefault(urlsplit(seed).netloc, seed)
    urls: list[str] = []
    for seed in one_per_site.values():
        urls += reader.read(seed, lambda line: typer.echo(f"linkcrawler: {printable(line)}", err=True))
    return urls
