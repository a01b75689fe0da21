"""The application: routes, the guard, and how failures become pages.

Handlers are plain functions run in Starlette's thread pool (pymongo is
synchronous). Each runs under `pymongo.timeout`, so every operation it sends
carries a `maxTimeMS` and a slow query ends with a page that says so (504,
naming the limit). MongoDB unreachable is a 503 page naming the server and
the fix (Redis, only on the home page, is a line there); the server keeps
running and the next request tries again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pymongo
from pymongo.errors import ConnectionFailure, PyMongoError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from linkcrawler.errors import UserError, mask_uri
from linkcrawler.explorer import QUERY_SECONDS, reads, render, views
from linkcrawler.explorer.params import BadParam, NotFound
from linkcrawler.explorer.security import Guard
from linkcrawler.explorer.views import Sources
from linkcrawler.profile.names import domain_of

STATIC = Path(__file__).parent / "static"


def create_app(sources: Sources, *, token: str | None = None, query_seconds: float = QUERY_SECONDS) -> Starlette:
    def endpoint(handler: Callable[..., Response]) -> Callable[[Request], Response]:
        def run(request: Request) -> Response:
            fmt = render.split_format(request.url.path)[1]
            try:
                find_a_server(sources.db)
                with pymongo.timeout(query_seconds):
                    return handler(request, fmt)
            except BadParam as exc:
                return failure(request, fmt, 400, "Bad parameter", str(exc), exc.parameter)
            except NotFound as exc:
                return failure(request, fmt, 404, "Not found", str(exc))
            except UserError as exc:
                return failure(request, fmt, 400, "Bad request", str(exc))
            except PyMongoError as exc:
                return failure(request, fmt, *mongo_problem(exc, sources.mongo_label, query_seconds))

        return run

    def top(handler: Callable[..., Response]) -> Callable[[Request], Response]:
        return endpoint(lambda request, fmt: handler(request, sources, fmt))

    def domain_page(request: Request, fmt: str) -> Response:
        given, view = request.path_params["domain"], request.path_params.get("view")
        if view is None:
            name, fmt = "overview", "json" if given.endswith(".json") else "html"
            given = given.removesuffix(".json")
        else:
            name, fmt = render.split_format(view)
        if name not in views.DOMAIN_VIEWS or fmt not in FORMATS_OF.get(name, ("html", "json")):
            raise NotFound(f"no such page: {view or 'overview'}")
        try:
            domain = domain_of(given)
        except UserError as exc:
            raise BadParam("domain", str(exc)) from None
        if domain != given:
            suffix = f"/{view}" if view else (".json" if fmt == "json" else "")
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/d/{quote(domain)}{suffix}{query}", 307)
        profile = reads.profile(sources.db, domain, linking=name == "outgoing")
        return views.DOMAIN_VIEWS[name](request, sources, domain, profile, fmt)

    routes = [
        Route("/", top(views.home)),
        Route("/index.json", top(views.home)),
        Route("/search", top(views.search)),
        Route("/compare", top(views.compare)),
        Route("/compare.json", top(views.compare)),
        Route("/intersect", top(views.intersect)),
        Route("/intersect.json", top(views.intersect)),
        Route("/intersect.csv", top(views.intersect)),
        Route("/intersect.jsonl", top(views.intersect)),
        Route("/page", top(views.page)),
        Route("/page.json", top(views.page)),
        Route("/d/{domain}", endpoint(domain_page)),
        Route("/d/{domain}/{view}", endpoint(domain_page)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token)])


FORMATS_OF = {
    **{name: ("html", "json", "csv", "jsonl") for name in (*views.LINK_KINDS, "referring-domains", "anchors")},
    "disavow": ("txt",),
}
"""The formats of each domain page other than plain HTML and its JSON twin."""


def failure(
    request: Request, fmt: str, status: int, title: str, message: str, parameter: str | None = None
) -> Response:
    if render.wants_json(request, fmt):
        return render.json_response({"error": message, "parameter": parameter}, status)
    return render.page(request, "error.html", {"title": title, "message": message, "status": status}, status)


def find_a_server(db: Any) -> None:
    """When the client knows no server it can read from, look for one (a ping) for `serverSelectionTimeoutMS`.

    Under the query's time limit pymongo waits the whole limit for a server,
    so an unreachable MongoDB would take the limit to be reported; looked for
    here, it takes `serverSelectionTimeoutMS` (the URI's, or `linkcrawler
    serve`'s). A client that reads from a server it knows (every request but
    the first after an outage) sends nothing more.
    """
    client = getattr(db, "client", None)
    if isinstance(client, pymongo.MongoClient) and not client.topology_description.has_readable_server(
        db.read_preference
    ):
        with pymongo.timeout(client.options.server_selection_timeout):
            client.admin.command("ping", read_preference=db.read_preference)


def mongo_problem(exc: PyMongoError, label: str, seconds: float) -> tuple[int, str, str]:
    """The status, title and message of a failed read: MongoDB unreachable (503), a query stopped at the time
    limit (504), or a query MongoDB refused (503)."""
    first = mask_uri(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, ConnectionFailure) and not _timed_out_query(exc):
        return 503, "MongoDB unreachable", (
            f"MongoDB at {label} did not answer ({first[:300]}). Start MongoDB, or point the explorer at one "
            "with --mongo-uri or MONGO_URI; this page works again as soon as it answers."
        )  # fmt: skip
    if exc.timeout:
        return 504, "Query time limit", (
            f"the query took longer than the time limit of {seconds:g} s (maxTimeMS) and was stopped: narrow "
            "the filters, or give the server more time with --query-timeout"
        )  # fmt: skip
    return 503, "MongoDB", f"MongoDB refused the query: {first[:300]}"


def _timed_out_query(exc: Any) -> bool:
    """A socket timeout on a connected server is a slow query, not an outage."""
    return type(exc).__name__ == "NetworkTimeout"
