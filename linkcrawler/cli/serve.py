"""`linkcrawler serve [--host H] [--port P] [--mongo-uri URI] [--database NAME] [--token T]`: the Site Explorer.

Read-only: the explorer sends no write to MongoDB or Redis. It binds
loopback unless given a token; see `linkcrawler.explorer.security`.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pymongo.errors import PyMongoError

from linkcrawler import config
from linkcrawler.cli.app import app
from linkcrawler.errors import UserError, mask_uri, require_extra
from linkcrawler.explorer import QUERY_SECONDS
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.store import migrate
from linkcrawler.store.mongo import get_database

if TYPE_CHECKING:
    from linkcrawler.explorer.views import Sources


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    mongo_uri: Annotated[str | None, typer.Option(help="MongoDB (default: $MONGO_URI).")] = None,
    database: Annotated[str | None, typer.Option(help="Database (default: $MONGO_DATABASE).")] = None,
    token: Annotated[
        str | None, typer.Option(help="Require this token on every request (default: $EXPLORER_TOKEN).")
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Redis of a running crawl, for its status on the home page (default: $REDIS_URL)."),
    ] = None,
    query_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds each query may run on the server (maxTimeMS).")
    ] = QUERY_SECONDS,
) -> None:
    """Explore the stored backlinks in a browser: domains, backlinks, referring domains, anchors, new and lost."""
    require_extra("explorer", "starlette", "jinja2", "uvicorn")
    import uvicorn

    from linkcrawler.explorer.app import create_app
    from linkcrawler.explorer.security import check_bind

    token = token or os.environ.get("EXPLORER_TOKEN", "").strip() or None
    check_bind(host, token)
    sources = _sources(mongo_uri, database, redis_url or os.environ.get("REDIS_URL", "").strip() or None)
    typer.echo(f"linkcrawler explorer on http://{host}:{port}/ reading {sources.mongo_label} (Ctrl-C stops it)")
    application = create_app(sources, token=token, query_seconds=query_timeout)
    uvicorn.run(application, host=host, port=port, log_level="warning", server_header=False)


def serve_command(data_uri: str | None) -> str:
    """The command that serves a demo's data folder (or MONGO_URI's database), as a shell takes it."""
    return shlex.join(["linkcrawler", "serve", *(["--mongo-uri", data_uri] if data_uri else [])])


def _sources(mongo_uri: str | None, database: str | None, redis_url: str | None) -> Sources:
    from linkcrawler.explorer.views import Sources

    uri = mongo_uri or os.environ.get("MONGO_URI", "").strip()
    if not uri:
        raise UserError("no MongoDB given: set MONGO_URI or pass --mongo-uri")
    name = database or config.get(config.project_settings(), "MONGO_DATABASE")
    db: Any = get_database(uri, name, check=False, timeout_ms=3000)
    try:
        if migrate.needs_upgrade(db):
            raise UserError("the database was written by an earlier version: run `linkcrawler migrate` first")
    except PyMongoError:
        typer.echo(f"linkcrawler: MongoDB at {mask_uri(uri)} does not answer yet: pages will say so until it does")
    cluster = config.get(config.project_settings(), "REDIS_CLUSTER")
    redis = connect_redis(redis_url, check=False, timeout=2.0, retries=0, cluster=cluster) if redis_url else None
    return Sources(db, mask_uri(uri), redis, mask_uri(redis_url) if redis_url else None)
