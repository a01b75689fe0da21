"""Rows out as CSV a spreadsheet opens cleanly, or as JSON lines; one row at a time.

CSV: UTF-8, a header row, every cell quoted when it holds a comma, a quote
or a line break (RFC 4180, Python's `csv`), dates in ISO 8601 (UTC), true /
false for flags, an empty cell for none. A text cell that a spreadsheet
would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return, the OWASP list) gets a leading `'`, which spreadsheets show
as text and do not evaluate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from linkcrawler.profile import jsonout

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "jsonl")


def cell(value: Any) -> str:
    """One CSV cell: ISO dates, true/false, "" for None, formula-looking text made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def iso(value: datetime) -> str:
    """ISO 8601 in UTC; a naive datetime is UTC already (as MongoDB stores dates)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> int:
    """Header and one line per row; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([cell(row.get(name)) for name in columns])
        count += 1
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], columns: Sequence[str], out: TextIO) -> int:
    """One JSON object per line with the columns in order (dates ISO 8601, as `--json` prints them)."""
    count = 0
    for row in rows:
        out.write(jsonout.dumps({name: _plain(row.get(name)) for name in columns}) + "\n")
        count += 1
    return count


def _plain(value: Any) -> Any:
    return iso(value) if isinstance(value, datetime) else value


WRITERS = {"csv": write_csv, "jsonl": write_jsonl}
