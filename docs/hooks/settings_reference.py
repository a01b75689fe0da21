"""The documentation site's settings tables, generated from `linkcrawler.config.SETTINGS` at build time.

A page asks for a table with a marker on a line of its own:

    <!-- settings: LEASE_SECONDS FRONTIER_PREFETCH -->   those settings, in that order
    <!-- settings: all -->                               every setting (the reference page)

so each default and description is written once, in `linkcrawler/config.py`,
and no page can show another. A marker naming an unknown setting stops the
build: a renamed setting cannot leave a stale table behind. mkdocs loads this
module through `hooks:` in mkdocs.yml; the tests import it by path.
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from linkcrawler.config import SETTINGS, Setting

MARKER = re.compile(r"^<!-- settings: ([A-Z0-9_ ]+|all) -->$", re.MULTILINE)
REFERENCE_PAGE = "settings.md"
_KIND_NAMES = {
    str: "text",
    int: "whole number",
    float: "number",
    bool: "boolean",
    list: "comma-separated list",
    dict: "JSON object",
}
_MIB = 1024 * 1024


def format_default(setting: Setting) -> str:
    """The default as the environment writes it (what `NAME=VALUE` would have to say to change nothing)."""
    value = setting.default
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return ", ".join(f"`{item}`" for item in value) if value else "empty"
    if isinstance(value, dict):
        return f"`{json.dumps(value)}`"
    if isinstance(value, int) and value >= _MIB and value % _MIB == 0:
        return f"`{value}` ({value // _MIB} MiB)"
    if isinstance(value, int) and value >= 1024 and value % 1024 == 0 and "BYTES" in setting.name:
        return f"`{value}` ({value // 1024} KiB)"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`" if value != "" else "empty"


def settings_table(names: list[str], link_to: str | None = None) -> str:
    """A Markdown table of these settings; with `link_to`, each name links to its row on the reference page."""
    unknown = [name for name in names if name not in SETTINGS]
    if unknown:
        raise ValueError(f"settings table names unknown setting(s): {', '.join(unknown)}")
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name in names:
        setting = SETTINGS[name]
        shown = f"[`{name}`]({link_to}#{name.lower()})" if link_to else f"`{name}`"
        rows.append(f"| {shown} | {format_default(setting)} | {setting.description} |")
    return "\n".join(rows)


def reference_table() -> str:
    """Every setting, in the order `linkcrawler.config` declares them, each row an anchor other pages link to."""
    rows = ["| setting | default | kind | meaning |", "|---|---|---|---|"]
    for name, setting in SETTINGS.items():
        anchor = f'<span id="{name.lower()}"></span>`{name}`'
        rows.append(f"| {anchor} | {format_default(setting)} | {_KIND_NAMES[setting.kind]} | {setting.description} |")
    return "\n".join(rows)


def render(markdown: str, page_path: str) -> str:
    """The page's Markdown with every settings marker replaced by its table."""

    def table(match: re.Match[str]) -> str:
        if match.group(1) == "all":
            return reference_table()
        link_to = posixpath.relpath(REFERENCE_PAGE, posixpath.dirname(page_path) or ".")
        return settings_table(match.group(1).split(), link_to=link_to)

    return MARKER.sub(table, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs' hook: called with each page's Markdown before it is rendered."""
    return render(markdown, page.file.src_uri)
