"""Documents as JSON: what `profile --json`, `demo --json`, `extract --json` and `export --format jsonl` print.

`json` escapes the C0 controls but writes DEL, the C1 controls and the
bidirectional overrides as they are, and a terminal obeys those; they are
written as `\\u` escapes too, which every JSON reader decodes to the same text.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from linkcrawler.terminal import BEYOND_C0

_UNSAFE = str.maketrans({code: f"\\u{code:04x}" for code in BEYOND_C0})


def dumps(value: Any) -> str:
    """JSON with datetimes in ISO 8601 (as stored: UTC)."""
    return json.dumps(value, default=_default, ensure_ascii=False).translate(_UNSAFE)


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
