"""Profile documents as JSON: what `profile --json` and `demo --json` print."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


def dumps(value: Any) -> str:
    """JSON with datetimes in ISO 8601 (as stored: UTC)."""
    return json.dumps(value, default=_default, ensure_ascii=False)


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
