"""Where `MONGO_URI` points: a MongoDB database, or a journal on disk for crawls without one.

`mongodb://` and `mongodb+srv://` go to a real server through pymongo (TLS,
auth and replica sets through the URI, as pymongo reads it). `mongomock://`
is the in-process emulation used by tests and by the demo when no MongoDB is
configured: every `mongomock://` URI names one in-memory server per process,
so two clients of the same URI see the same data, as they would on a server.
`mongomock:///DIR` (an absolute path) is such a server loaded from the
snapshot in DIR (`linkcrawler.store.snapshot`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pymongo
from pymongo.errors import ConfigurationError, InvalidURI, PyMongoError

from linkcrawler.errors import UserError, mask_uri, require_extra
from linkcrawler.internals import mongomock_private
from linkcrawler.store import snapshot
from linkcrawler.store.journal import Journal
from linkcrawler.store.linkstore import LinkStore

MONGO_SCHEMES = ("mongodb://", "mongodb+srv://", "mongomock://")
JOURNAL_SCHEME = "journal://"


def get_database(uri: str, database: str, *, check: bool = True, timeout_ms: int = 5000) -> Any:
    """A database handle for `uri`; with `check`, ping the server so an outage fails here, in one line.

    `timeout_ms` is how long an operation waits for an unreachable server, unless the URI sets its own
    `serverSelectionTimeoutMS`: what the user wrote wins."""
    if not uri.startswith(MONGO_SCHEMES):
        raise UserError(
            f"MONGO_URI {mask_uri(uri)!r} has an unsupported scheme; use mongodb://HOST/, "
            "mongodb+srv://HOST/ or mongomock:// (in-process emulation)"
        )
    if uri.startswith("mongomock:///"):
        return _snapshot_database(uri, database)
    if uri.startswith("mongomock://"):
        return _mongomock_client(uri)[database]
    try:
        given = {key.lower() for key in parse_qs(urlsplit(uri).query)}
        waits = {} if "serverselectiontimeoutms" in given else {"serverSelectionTimeoutMS": timeout_ms}
        client = pymongo.MongoClient(uri, tz_aware=True, **waits)
    except (ConfigurationError, InvalidURI, ValueError) as exc:
        raise UserError(f"MONGO_URI {mask_uri(uri)!r} is malformed: {mask_uri(str(exc))}") from None
    if check:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            raise UserError(
                f"cannot reach MongoDB at {mask_uri(uri)}: {mask_uri(str(exc)).splitlines()[0]}; "
                "start MongoDB or set MONGO_URI"
            ) from None
    return client[database]


@functools.cache
def _mongomock_client(uri: str) -> Any:
    require_extra("local", "mongomock")
    import mongomock

    mongomock_private.patch()
    return mongomock.MongoClient(tz_aware=True)


@functools.cache
def _snapshot_database(uri: str, database: str) -> Any:
    """The snapshot directory named by a `mongomock:///DIR` URI, loaded once per process and database."""
    db = _mongomock_client(uri)[database]
    snapshot.load(Path(uri.removeprefix("mongomock://")), db)
    return db


def open_sink(uri: str, database: str) -> LinkStore | Journal:
    """`journal:///DIR` appends batches to files in DIR; anything else is a MongoDB URI.

    A MongoDB sink has its indexes ensured here, once per process.
    """
    if uri.startswith(JOURNAL_SCHEME):
        return Journal(Path(uri.removeprefix(JOURNAL_SCHEME) or "journal"))
    store = LinkStore(get_database(uri, database))
    store.ensure_indexes()
    return store
