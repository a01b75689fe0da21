"""Console entry point: `linkcrawler COMMAND`.

Each command lives in its own module and registers on `app`; `main` turns a
`UserError` from any of them into one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys

from linkcrawler.cli import (  # noqa: F401  (each registers its command)
    demo,
    disavow,
    export,
    extract,
    intersect,
    migrate,
    profile,
    replay,
    seed,
    serve,
    stats,
    summarize,
)
from linkcrawler.cli.app import app
from linkcrawler.errors import UserError, mask_uri


def main() -> None:
    try:
        app(standalone_mode=True)
    except UserError as exc:
        print(f"linkcrawler: error: {mask_uri(str(exc))}", file=sys.stderr)
        sys.exit(2)
