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
short by a killed worker is skipped and reported, never half-applied; a write
that fails (a full disk) is cut back off the file before its error is raised.

A writer holds an exclusive `flock` on its file from before the file bears
its `.jsonl` name until it closes it (or its process dies), and replay takes
only files it can lock itself: a file a live worker may still append to is
left for a later replay, instead of being renamed under the worker, which
would go on appending to the `.replayed` file. The lock also keeps two
replays from applying one file twice. (`flock` is local to one kernel: on
NFS, Linux maps it to NFS locks, which a server may not honour.)
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

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
        return _date(value)
    return json_util.default(value, json_options=_JSON_OPTIONS)


@functools.lru_cache(maxsize=1024)
def _date(value: datetime) -> dict[str, Any]:
    """A date in relaxed Extended JSON, remembered: every link of a page bears its fetch time two or three times.

    A naive date is UTC, as pymongo stores it; dates before 1970 take
    `json_util`'s form, `$numberLong` milliseconds.
    """
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value >= _EPOCH:
        return {"$date": value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    return json_util.default(value, json_options=_JSON_OPTIONS)


OPENING_SUFFIX = ".opening"
"""A journal file's name until its writer holds its lock; replay never looks at it."""


class Journal:
    """One process's journal file, locked while open; `write` has the `LinkStore.write` signature."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}"
        opening = directory / f"{name}{OPENING_SUFFIX}"
        descriptor = os.open(opening, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self._file = os.fdopen(descriptor, "ab", buffering=0)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        self.path = directory / f"{name}.jsonl"
        opening.rename(self.path)

    def write(self, links: Iterable[dict[str, Any]], pages: Iterable[dict[str, Any]]) -> WriteResult:
        batch = {"links": list(links), "pages": list(pages)}
        line = memoryview(json.dumps(batch, default=_extended_json).encode() + b"\n")
        descriptor = self._file.fileno()
        size = os.fstat(descriptor).st_size
        try:
            while line:
                line = line[self._file.write(line) :]
            os.fsync(descriptor)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, size)
            raise
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
    in_use: int = 0
    """Files left alone because a running worker (or another replay) holds them."""
    removed: int = 0
    """Replayed files (and files of writers that died before naming theirs) deleted past their retention."""


def replay(directory: Path, store: LinkStore, retention_days: float | None = None) -> ReplayResult:
    """Apply every closed, unreplayed journal file in `directory` to `store`, oldest first.

    With `retention_days`, then delete what `remove_expired` deletes: a
    replayed file is kept that long after its replay (its mtime is set then).
    """
    result = ReplayResult()
    for path in sorted(directory.glob("*.jsonl"), key=_modified):
        with _taken(path) as journal:
            if journal is None:
                result.in_use += 1
                continue
            _replay_file(path, journal, store, result)
            replayed = path.with_suffix(".replayed")
            path.rename(replayed)
            os.utime(replayed)
            path.with_suffix(".offset").unlink(missing_ok=True)
            result.files += 1
    if retention_days is not None:
        result.removed = remove_expired(directory, retention_days)
    return result


def remove_expired(directory: Path, retention_days: float) -> int:
    """Delete `*.replayed` files, and `*.opening` files (a writer killed before it locked and named its file:
    empty), last changed more than `retention_days` ago; how many.

    Unreplayed `*.jsonl` files are never deleted, however old: they hold batches
    MongoDB has not seen.
    """
    cutoff = time.time() - retention_days * 86_400
    removed = 0
    for path in [*directory.glob("*.replayed"), *directory.glob(f"*{OPENING_SUFFIX}")]:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # taken by another replay meanwhile; `_taken` skips it
        return 0.0


@contextlib.contextmanager
def _taken(path: Path) -> Iterator[BinaryIO | None]:
    """The journal file opened and locked, or None while someone else holds it or once it is gone.

    Locked, the file must still bear its name: a replay that took it first
    renames it before letting go.
    """
    try:
        journal = path.open("rb")
    except FileNotFoundError:
        yield None
        return
    with journal:
        try:
            fcntl.flock(journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        try:
            same = os.path.samestat(os.fstat(journal.fileno()), path.stat())
        except FileNotFoundError:
            same = False
        yield journal if same else None


def batches(path: Path) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Each complete batch of a journal file (replayed or not) as `(links, pages)`, in the order written.

    For tools and tests that apply batches their own way; a last line cut
    short by a killed worker is left out, as replay leaves it.
    """
    with path.open("rb") as journal:
        for _, batch in _read(journal):
            if batch is not None:
                yield batch["links"], batch["pages"]


def _read(journal: BinaryIO) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """Each line from the file's position on: its length in bytes and its batch (None for a last line cut short)."""
    for line in journal:
        if not line.endswith(b"\n"):
            yield len(line), None
            return
        yield len(line), json_util.loads(line, json_options=_JSON_OPTIONS)


def _replay_file(path: Path, journal: BinaryIO, store: LinkStore, result: ReplayResult) -> None:
    offset_path = path.with_suffix(".offset")
    offset = int(offset_path.read_text()) if offset_path.exists() else 0
    journal.seek(offset)
    for size, batch in _read(journal):
        if batch is None:
            result.truncated += 1
            break
        store.write(batch["links"], batch["pages"])
        offset += size
        offset_path.write_text(str(offset))
        result.batches += 1
        result.links += len(batch["links"])
        result.pages += len(batch["pages"])
