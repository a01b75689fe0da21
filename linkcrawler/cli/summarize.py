"""`linkcrawler summarize [--domain D ...] [--notify URL ...]`: the post-crawl job that writes `domain_profiles`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from linkcrawler import config
from linkcrawler.cli.app import app
from linkcrawler.errors import UserError, require_extra
from linkcrawler.profile.alerts import AlertFilter, alert_bodies, previous_profiles
from linkcrawler.profile.job import summarize as run_summarize
from linkcrawler.profile.names import domain_of
from linkcrawler.profile.risk import RiskThresholds
from linkcrawler.profile.webhooks import DeliveryPolicy, Notifier, check_webhook_urls
from linkcrawler.store import migrate
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
    notify: Annotated[
        list[str] | None,
        typer.Option("--notify", help="POST an alert per changed domain to this webhook URL; repeatable."),
    ] = None,
    notify_min_authority: Annotated[
        float | None, typer.Option(help="Alert only on links from referring domains at least this strong (0-100).")
    ] = None,
    notify_domain: Annotated[
        list[str] | None, typer.Option(help="Alert only for this domain (URL or host accepted); repeatable.")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Recompute every profile, not only those whose links changed.")
    ] = False,
) -> None:
    """Bring the backlink profile of every target domain (or the given ones) up to date in domain_profiles."""
    require_extra("profile", "numpy", "scipy")
    settings = config.project_settings()
    domains = sorted({domain_of(d) for d in domain}) if domain else None
    urls = check_webhook_urls(notify or config.get(settings, "NOTIFY_URLS"))
    minimum = config.get(settings, "NOTIFY_MIN_AUTHORITY") if notify_min_authority is None else notify_min_authority
    wanted = AlertFilter(frozenset(domain_of(d) for d in notify_domain) if notify_domain else None, minimum)
    policy = DeliveryPolicy.from_settings(settings)
    if urls:
        policy.check_spool()
    db = database_from(mongo_uri, database)
    if migrate.needs_upgrade(db):
        typer.echo("linkcrawler: the database was written by an earlier version: storing each link's state first")
        migrate.upgrade(db)
    previous = previous_profiles(db) if urls else {}
    result = run_summarize(db, domains, thresholds=RiskThresholds.from_settings(settings), everything=everything)
    typer.echo(
        f"summarized {result.domains} domain(s) ({result.recomputed} recomputed) from {result.links:,} stored links "
        f"(data as of {result.data_as_of:%Y-%m-%d %H:%M:%S}) in {result.seconds:.1f} s"
    )
    if urls:
        bodies = alert_bodies(db, previous, result.authority, wanted, config.get(settings, "NOTIFY_LINKS"))
        _notify(policy, urls, bodies)


def _notify(policy: DeliveryPolicy, urls: list[str], bodies: list[dict]) -> None:
    """Deliver the alerts; what could not go is kept for the next run, what was dropped is counted, each said in
    one line per receiver or reason."""
    report = Notifier(policy).deliver(urls, bodies)
    kept = f", {report.kept} kept in {policy.spool} for the next run" if report.kept else ""
    dropped = f", {report.dropped.total()} dropped" if report.dropped else ""
    typer.echo(f"alerts: {len(bodies)} domain(s) changed; {report.delivered} alert(s) delivered{kept}{dropped}")
    for where, reason in sorted(report.problems.items()):
        typer.echo(f"linkcrawler: alerts to {where} not delivered: {reason}", err=True)
    for reason, count in sorted(report.dropped.items()):
        typer.echo(f"linkcrawler: {count} alert(s) dropped: {reason}", err=True)
