"""Which version of the schema a database's collections follow, kept in the database itself.

Version 1 (0.1.0) stored links without their state; version 2 keeps it on
each link (`linkcrawler.store.state`). A database a worker
starts on empty is marked `CURRENT` at once; one holding links and no mark was
written by version 1 and is upgraded by `linkcrawler.store.migrate`.
"""

from __future__ import annotations

from typing import Any

META = "linkcrawler_meta"
"""One document per database, `_id: "schema"`, with the version its collections follow."""

CURRENT = 2


def version(database: Any) -> int:
    """The version the database's data follows: 1 for data written before versions were kept, 0 for none."""
    found = database[META].find_one({"_id": "schema"})
    if found:
        return int(found["version"])
    return 1 if database["links"].find_one({}, {"_id": 1}) else 0


def mark_current(database: Any) -> None:
    """Record that the data follows `CURRENT` (a new database, or an upgrade that finished)."""
    database[META].update_one({"_id": "schema"}, {"$max": {"version": CURRENT}}, upsert=True)
