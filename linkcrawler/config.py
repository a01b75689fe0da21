"""Reading settings from the environment, the same way in compose, Kubernetes and scrapyd.

Settings modules call these for each setting a deployment may set; a value
that does not parse raises `UserError` naming the variable, instead of
surfacing later as a wrong type deep inside Scrapy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from linkcrawler.errors import UserError

T = TypeVar("T")


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _env_number(name: str, default: T, convert: Callable[[str], T], kind: str) -> T:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return convert(raw)
    except ValueError:
        raise UserError(f"environment variable {name}={raw!r} is not {kind}") from None


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise UserError(f"environment variable {name}={raw!r} is not a boolean (use true or false)")


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated values; empty items dropped."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]
