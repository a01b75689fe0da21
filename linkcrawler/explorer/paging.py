"""Keyset paging: a page is "the rows after (or before) this row in this order", never a skip.

Link tables and referring domains read a page from an index (`fetch`);
grouped rows (anchors, the intersect) are grouped first and the page taken
after the grouping, in the same aggregation (`aggregate`).

A page token carries the sort values of the row it starts after, with a
checksum over the sort's name, so a token edited by hand or taken from
another sort is refused (400) instead of silently showing other rows. The
checksum is not a secret: a forged token can only choose where a read-only
listing starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.explorer.params import BadParam

Sort = list[tuple[str, int]]
DATE_FIELDS = frozenset({"first_seen", "last_seen", "lost_at"})
COUNT_FIELDS = frozenset({"links", "follow", "count"})
SCORE_FIELDS = frozenset({"authority"})
_KEY = b"linkcrawler explorer page token"


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next: str | None
    previous: str | None


def encode(sort_name: str, sort: Sort, row: dict[str, Any]) -> str:
    values = [_plain(row.get(field)) for field, _ in sort]
    payload = base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{payload}.{_checksum(sort_name, payload)}"


def decode(parameter: str, token: str, sort_name: str, sort: Sort) -> list[Any]:
    """The sort values a token names; BadParam when it was edited, is from another sort, or holds wrong types."""
    refused = BadParam(parameter, "this page token was edited or belongs to another sort: go back to the first page")
    payload, _, check = token.partition(".")
    if not hmac.compare_digest(check.encode(), _checksum(sort_name, payload).encode()):
        raise refused
    try:
        values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if not isinstance(values, list) or len(values) != len(sort):
            raise refused
        return [_typed(field, value) for (field, _), value in zip(sort, values, strict=True)]
    except (ValueError, TypeError):
        raise refused from None


def keyset(sort: Sort, values: list[Any], *, backwards: bool = False) -> dict[str, Any]:
    """Rows strictly after `values` in `sort` order (before them when `backwards`)."""
    branches = []
    for i, (field, direction) in enumerate(sort):
        operator = "$gt" if (direction == 1) != backwards else "$lt"
        equal = {name: {"$eq": value} for (name, _), value in zip(sort[:i], values[:i], strict=True)}
        branches.append({**equal, field: {operator: values[i]}})
    return {"$or": branches}


def fetch(
    collection: Any, base: dict[str, Any], sort_name: str, sort: Sort, size: int, *,
    after: list[Any] | None = None, before: list[Any] | None = None, projection: dict[str, Any] | None = None,
) -> Page:  # fmt: skip
    """One page of `size` rows of `base` in `sort` order, after or before a row; one indexed `find` (size + 1).

    The keyset joins `base`'s own conditions at the top level, so the equality an index starts from stays
    where a planner looks for it."""
    bounds, order = _bounds(sort, after, before)
    query = base if bounds is None else {**base, "$and": [*base.get("$and", []), bounds]}
    rows = list(collection.find(query, projection, sort=order, limit=size + 1))
    return _page(rows, sort_name, sort, size, after, before)


def aggregate(
    collection: Any, stages: list[dict[str, Any]], sort_name: str, sort: Sort, size: int, *,
    after: list[Any] | None = None, before: list[Any] | None = None,
) -> tuple[Page, int]:  # fmt: skip
    """One page of the rows `stages` compute (grouped rows), and how many there are: one aggregation.

    Grouped rows have no index to page through, so the keyset is a `$match` on them, and the `$sort` and
    `$limit` after it keep `size + 1` rows at a time (a top-k sort on a server) instead of sorting them all;
    the count comes from the same pass (`$facet`)."""
    bounds, order = _bounds(sort, after, before)
    window = [*([] if bounds is None else [{"$match": bounds}]), {"$sort": dict(order)}, {"$limit": size + 1}]
    facets = {"$facet": {"rows": window, "total": [{"$count": "rows"}]}}
    found = next(iter(collection.aggregate([*stages, facets], allowDiskUse=True)), {})
    total = found.get("total") or [{"rows": 0}]
    return _page(found.get("rows", []), sort_name, sort, size, after, before), total[0]["rows"]


def _bounds(sort: Sort, after: list[Any] | None, before: list[Any] | None) -> tuple[dict[str, Any] | None, Sort]:
    """The keyset condition of a page after or before a row, and the order to read it in."""
    if before is not None:
        return keyset(sort, before, backwards=True), [(field, -direction) for field, direction in sort]
    return (None if after is None else keyset(sort, after)), sort


def _page(rows: list[dict[str, Any]], sort_name: str, sort: Sort, size: int, after: list[Any] | None,
          before: list[Any] | None) -> Page:  # fmt: skip
    """`size` of the rows read (one more tells whether there is another page), in `sort` order, with tokens."""
    more = len(rows) > size
    rows = rows[:size]
    if before is not None:
        rows.reverse()
    has_next = bool(rows) and (before is not None or more)
    has_previous = bool(rows) and (after is not None or (before is not None and more))
    return Page(
        rows,
        encode(sort_name, sort, rows[-1]) if has_next else None,
        encode(sort_name, sort, rows[0]) if has_previous else None,
    )


def _checksum(sort_name: str, payload: str) -> str:
    return hmac.new(_KEY, f"{sort_name}:{payload}".encode(), hashlib.sha256).hexdigest()[:16]


def _plain(value: Any) -> Any:
    return {"$date": value.isoformat()} if isinstance(value, datetime) else value


def _typed(field: str, value: Any) -> Any:
    if field in DATE_FIELDS:
        if not (isinstance(value, dict) and isinstance(value.get("$date"), str)):
            raise TypeError(field)
        return datetime.fromisoformat(value["$date"])
    expected = (int, float) if field in SCORE_FIELDS else (int,) if field in COUNT_FIELDS else (str,)
    if type(value) not in expected:
        raise TypeError(field)
    return value
