"""`linkcrawler stats [--json]`: the health of the running crawl, read from Redis."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from linkcrawler.cli.app import app
from linkcrawler.config import project_settings
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.stats import CrawlHealth, crawl_health
from linkcrawler.terminal import printable


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
    redis_url: Annotated[str | None, typer.Option(help="Redis URL (default: $REDIS_URL).")] = None,
) -> None:
    """Frontier length, leased requests, pages per minute and live workers with their heartbeat ages."""
    health = crawl_health(redis_from_settings(project_settings(), redis_url))
    typer.echo(json.dumps(health.as_dict()) if as_json else _text(health))


def _text(health: CrawlHealth) -> str:
    lines = [
        f"frontier: {health.frontier} request(s) queued, {health.start_urls} seed(s) waiting",
        f"sites: {health.sites_queued} with queued requests, {health.sites_ready} ready now, "
        f"{health.sites_queued - health.sites_ready} waiting on their delay or slots",
        f"leased: {health.leased} request(s) being fetched or stored",
        f"pages per minute: {health.pages_last_minute} last minute, {health.pages_this_minute} so far this minute",
        f"workers: {health.live_workers} live",
    ]
    lines += [
        f"  {printable(w.worker)}  heartbeat {w.heartbeat_age:.1f} s ago  {w.pages} pages"
        + ("  STALE" if w.stale else "")
        for w in health.workers
    ]
    return "\n".join(lines)
