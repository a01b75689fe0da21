"""An append-only journal of store batches on local disk, and its replay into MongoDB.

Workers write here instead of MongoDB when `MONGO_URI` is `journal:///DIR`
(a crawl with no database at hand; the demo's worker processes when no real
MongoDB is given, since an in-process emulation cannot be shared between
processes). `linkcrawler replay DIR` loads the batches later through the same
upserts a live store uses, so the result is the same document for document.

Each worker appends to its own file, one JSON line per batch (Extended JSON,
so dates survive). Replay records how many bytes of a file it has applied in
a sidecar `.offset` file, so an interrupted replay resumes without applying
a batch twice; a fully applied file is renamed `*.replayed`. A last line cut
short by a killed worker is skipped and reported, never half-applied.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util

from linkcrawler.store.linkstore import LinkStore, WriteResult

_JSON_OPTIONS = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _extended_json(value: Any) -> Any:
    """`json.dumps`'s hook for what JSON lacks: relaxed Extended JSON, as `json_util.dumps` writes it.

    Dates, the one such type in every record, are written here: `json_util.dumps`
    walks the whole batch in Python first and took twice as long.
    """
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        if value >= _EPOCH:
            return {"$date": value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    return json_util.default(value, json_options=_JSON_OPTIONS)


class Journal:
    """One process's journal file; `write` has the `LinkStore.write` signature."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}.jsonl"
        self.path = directory / name
        self._file = self.path.open("ab")

    def write(self, links: Iterable[dict[str, Any]], pages: Iterable[dict[str, Any]]) -> WriteResult:
        batch = {"links": list(links), "pages": list(pages)}
        self._file.write(json.dumps(batch, default=_extended_json).encode() + b"\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        return WriteResult(pages_written=len(batch["pages"]))

    def close(self) -> None:
        self._file.close()


@dataclass
class ReplayResult:
    files: int = 0
    batches: int = 0
    links: int = 0
    pages: int = 0
    truncated: int = 0


def replay(directory: Path, store: LinkStore) -> ReplayResult:
    """Apply every unreplayed journal file in `directory` to `store`, oldest first."""
    result = ReplayResult()
    for path in sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime):
        _replay_file(path, store, result)
        path.rename(path.with_suffix(".replayed"))
        path.with_suffix(".offset").unlink(missing_ok=True)
        result.files += 1
    return result


def _replay_file(path: Path, store: LinkStore, result: ReplayResult) -> None:
    offset_path = path.with_suffix(".offset")
    offset = int(offset_path.read_text()) if offset_path.exists() else 0
    with path.open("rb") as journal:
        journal.seek(offset)
        for line in journal:
            if not line.endswith(b"\n"):
                result.truncated += 1
                break
            batch = json_util.loads(line, json_options=_JSON_OPTIONS)
            store.write(batch["links"], batch["pages"])
            offset += len(line)
            offset_path.write_text(str(offset))
            result.batches += 1
            result.links += len(batch["links"])
            result.pages += len(batch["pages"])
