"""What a page says about itself: robots directives (meta robots, X-Robots-Tag) and canonical Link headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

ROBOTS_META_NAMES = frozenset(("robots", "googlebot"))
ROBOTS_AGENTS = frozenset(("googlebot",))
"""Crawler names whose X-Robots-Tag directives we obey, besides directives that name none."""

_LINK_HEADER = re.compile(r"<([^>]*)>([^,<]*)")
_LINK_REL = re.compile(r"""rel\s*=\s*(?:"([^"]*)"|([^\s;"]+))""", re.I)
_PRINTABLE = bytes(range(0x20, 0x7F))
_VALUE_DIRECTIVES = frozenset(("unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"))


def robots_directives(content: str, *, header: bool = False) -> list[str]:
    """Lower-cased directives of a meta robots content or, with `header`, an X-Robots-Tag value.

    Directives are comma-separated (spaces tolerated between plain ones);
    valued ones keep their value (`max-snippet:50`). In a header, `name:`
    before directives addresses them to one crawler: kept for googlebot,
    dropped for any other.
    """
    directives = []
    agent = None
    for part in content.lower().split(","):
        name, colon, value = part.partition(":")
        name = name.strip()
        if colon and header and name not in _VALUE_DIRECTIVES and " " not in name:
            agent, part = name, value
            name, colon, value = part.partition(":")
            name = name.strip()
        if agent is not None and agent not in ROBOTS_AGENTS:
            continue
        if colon:
            directives.append(f"{name}:{value.strip()}")
        else:
            directives.extend(part.split())
    return directives


def is_noindex(robots: list[str]) -> bool:
    """Whether robots directives keep a page out of the index (`noindex`, or `none`: noindex and nofollow)."""
    return "noindex" in robots or "none" in robots


def header_values(headers: Mapping[Any, Any] | None) -> dict[str, Any]:
    """Lower-cased header names to text: X-Robots-Tag as a list of values, others joined.

    Values in bytes are read as UTF-8; a value that is not UTF-8 keeps its
    ASCII and has its other bytes percent-encoded, as a browser reads such a
    `Location` (a server that writes Latin-1 into a header must not cost the
    page).
    """
    values: dict[str, Any] = {}
    for name, value in (headers or {}).items():
        key = (name.decode("latin-1") if isinstance(name, bytes) else name).lower()
        texts = [_text(v) for v in value] if isinstance(value, list | tuple) else [_text(value)]
        values[key] = texts if key == "x-robots-tag" else ", ".join(texts)
    return values


def _text(value: Any) -> str:
    if not isinstance(value, bytes):
        return str(value)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return quote(value, safe=_PRINTABLE)


def header_canonicals(value: str) -> list[str]:
    """Targets of `Link: <url>; rel="canonical"` entries of a Link header."""
    targets = []
    for target, params in _LINK_HEADER.findall(value):
        rel = _LINK_REL.search(params)
        if rel and "canonical" in (rel.group(1) or rel.group(2)).lower().split():
            targets.append(target.strip())
    return targets
