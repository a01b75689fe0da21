"""Where the store pipeline writes: a MongoDB database or a local journal, chosen by `MONGO_URI`."""

from __future__ import annotations

from pathlib import Path

from linkcrawler.journal import Journal
from linkcrawler.mongo import get_database
from linkcrawler.store import LinkStore

JOURNAL_SCHEME = "journal://"


def open_sink(uri: str, database: str) -> LinkStore | Journal:
    """`journal:///DIR` appends batches to files in DIR; anything else is a MongoDB URI.

    A MongoDB sink has its indexes ensured here, once per process.
    """
    if uri.startswith(JOURNAL_SCHEME):
        return Journal(Path(uri.removeprefix(JOURNAL_SCHEME) or "journal"))
    store = LinkStore(get_database(uri, database))
    store.ensure_indexes()
    return store
