"""A database on disk, for reading without a server: what `linkcrawler demo` leaves behind.

One `<collection>.jsonl` file per collection, one document per line in
MongoDB Extended JSON (relaxed: dates stay dates), written from a cursor
one document at a time. `MONGO_URI=mongomock:///DIR` (an absolute path)
loads DIR into the in-process emulation at first use, so every read command
(`profile`, `export`, `intersect`) works on it. Writes (a `summarize`)
change only the loaded copy, never the files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bson import json_util
from bson.json_util import JSONOptions

from linkcrawler.errors import UserError

COLLECTIONS = ("links", "pages", "domain_profiles", "profile_history", "referring_domains", "linkcrawler_meta")
"""What a snapshot holds: the crawl, the profiles and what the next profile run starts from (the schema's
version too); indexes are rebuilt by whoever loads it."""

_OPTIONS = JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
BATCH = 1000


def save(database: Any, directory: Path) -> dict[str, int]:
    """Write the collections into `directory` (created if needed), each complete before it replaces the old one."""
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in COLLECTIONS:
        path = directory / f"{name}.jsonl"
        partial = path.with_suffix(".jsonl.part")
        with partial.open("w", encoding="utf-8") as out:
            counts[name] = 0
            for document in database[name].find({}, sort=[("_id", 1)]):
                out.write(json_util.dumps(document, json_options=_OPTIONS) + "\n")
                counts[name] += 1
        os.replace(partial, path)
    return counts


def load(directory: Path, database: Any) -> None:
    """Replace the collections of `database` with the files of `directory`, inserted in batches."""
    if not (directory / "links.jsonl").is_file():
        raise UserError(
            f"no linkcrawler data in {directory}: name the data folder `linkcrawler demo --keep DIR` leaves (DIR/data)"
        )
    for name in COLLECTIONS:
        path = directory / f"{name}.jsonl"
        database.drop_collection(name)
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as lines:
            batch = []
            for number, line in enumerate(lines, 1):
                try:
                    batch.append(json_util.loads(line, json_options=_OPTIONS))
                except ValueError as exc:
                    raise UserError(f"{path}:{number} is not a stored document: {exc}") from None
                if len(batch) == BATCH:
                    database[name].insert_many(batch)
                    batch = []
            if batch:
                database[name].insert_many(batch)
