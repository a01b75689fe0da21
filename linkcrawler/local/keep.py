"""What `linkcrawler demo` leaves behind: reports to open, data to query without a server, commands to try.

    DIR/index.html           profiled domains by authority, each linking to its report
    DIR/reports/DOMAIN.html  the report `linkcrawler profile DOMAIN --html` writes
    DIR/data/                the database as a snapshot (`linkcrawler.store.snapshot`),
                             when the demo used the in-process emulation

The printed commands name the data with `--mongo-uri mongomock:///DIR/data`,
or rely on MONGO_URI when the demo wrote to a MongoDB.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from linkcrawler.errors import UserError
from linkcrawler.profile import history, report_html
from linkcrawler.store import snapshot


@dataclass
class Kept:
    index: Path
    data_uri: str | None
    commands: list[str] = field(default_factory=list)


def keep(database: Any, directory: Path, profiles: list[dict[str, Any]], *, with_data: bool) -> Kept:
    """Write the index, one report per profile and (`with_data`) the snapshot; say what to run next."""
    directory = directory.resolve()
    try:
        reports = directory / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        for profile in profiles:
            page = report_html.render(profile, history.runs(database, profile["domain"]))
            (reports / f"{profile['domain']}.html").write_text(page, encoding="utf-8")
        index = directory / "index.html"
        index.write_text(report_html.render_index(profiles, lambda d: f"reports/{quote(d)}.html"), encoding="utf-8")
        data_uri = None
        if with_data:
            snapshot.save(database, directory / "data")
            data_uri = f"mongomock://{directory / 'data'}"
    except OSError as exc:
        raise UserError(f"cannot write the demo folder {directory}: {exc.strerror or exc}") from None
    return Kept(index, data_uri, next_commands(profiles, directory, data_uri))


def next_commands(profiles: list[dict[str, Any]], directory: Path, data_uri: str | None) -> list[str]:
    """A profile and an export of the top domain and an intersect, as a shell takes them (quoted where needed)."""
    if not profiles:
        return []
    source = ["--mongo-uri", data_uri] if data_uri else []
    top = min(profiles, key=lambda p: (-p["authority"], p["domain"]))["domain"]
    commands = [
        ["linkcrawler", "profile", top, *source],
        ["linkcrawler", "export", "backlinks", top, *source, "--output", str(directory / f"{top}-backlinks.csv")],
    ]
    by_reach = sorted(profiles, key=lambda p: (-p["referring"]["domains"], p["domain"]))
    if len(by_reach) >= 4:
        # The gap of the least linked domain against the three most linked: what a small site would ask.
        rivals, mine = [p["domain"] for p in by_reach[:3]], by_reach[-1]["domain"]
        commands.append(["linkcrawler", "intersect", *rivals, "--not", mine, "--min", "2", *source])
    return [shlex.join(command) for command in commands]
