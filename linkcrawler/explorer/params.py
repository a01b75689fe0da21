"""Query parameters, checked: a bad one is a 400 that names the parameter and says why; an unknown domain a 404.

Every parameter a view reads comes through here, so a page size of 10**9,
an unknown sort or a date that is not one never reaches a query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from linkcrawler.cli.export import parse_date
from linkcrawler.errors import UserError
from linkcrawler.query import LinkFilters

PAGE_SIZES = range(10, 101)
DEFAULT_PAGE_SIZE = 50
FOLLOW = {"": None, "follow": True, "nofollow": False}


class BadParam(UserError):
    """A query parameter the explorer cannot use: answered with 400."""

    def __init__(self, parameter: str, why: str) -> None:
        super().__init__(f"parameter {parameter!r}: {why}")
        self.parameter = parameter


class NotFound(UserError):
    """Something named in the URL that the database does not hold: answered with 404."""


def choice(query: Mapping[str, str], name: str, allowed: Sequence[str], default: str) -> str:
    value = query.get(name, default) or default
    if value not in allowed:
        raise BadParam(name, f"{value!r} is not one of {', '.join(repr(a) for a in allowed)}")
    return value


def page_size(query: Mapping[str, str]) -> int:
    text = query.get("n", "") or str(DEFAULT_PAGE_SIZE)
    if not text.isdigit() or int(text) not in PAGE_SIZES:
        raise BadParam("n", f"{text[:40]!r} is not a page size: use a whole number from 10 to 100")
    return int(text)


def date(query: Mapping[str, str], name: str) -> datetime | None:
    try:
        return parse_date(query.get(name) or None, name)
    except UserError as exc:
        raise BadParam(name, str(exc)) from None


def text(query: Mapping[str, str], name: str, limit: int = 200) -> str | None:
    value = (query.get(name) or "").strip()
    if len(value) > limit:
        raise BadParam(name, f"longer than {limit} characters")
    return value or None


def link_filters(query: Mapping[str, str]) -> LinkFilters:
    """The export's filters, from `follow`, `type`, `position`, `anchor` and `source_domain`."""
    follow = FOLLOW[choice(query, "follow", list(FOLLOW), "")]
    link_type, position = text(query, "type"), text(query, "position")
    try:
        return LinkFilters(follow, link_type, position, text(query, "anchor"), text(query, "source_domain"))
    except UserError as exc:
        raise BadParam("type" if "link type" in str(exc) else "position", str(exc)) from None
