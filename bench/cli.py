"""The command line the single-measurement scripts share: `[--quick] [--json]`, then `measure(quick)` printed."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any


def run_measure(measure: Callable[[bool], dict[str, Any]], doc: str, quick_help: str) -> None:
    """Parse the options, measure, print one JSON object (`--json`) or one `key value` line per result."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.quick)
    if args.json:
        print(json.dumps(result))
        return
    width = max(map(len, result)) + 2
    for key, value in result.items():
        print(f"{key:{width}} {value}")
