"""Where on its page a link sits: `content`, `nav`, `header`, `footer` or `aside`.

The rules are in `linkcrawler.extract.page`'s docstring; the state a scan
carries down the tree is (position, inside main or article), since a header
or footer inside an article is the article's own, content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from linkcrawler.extract.hosts import remember

REGION_ROLES = {
    "navigation": "nav", "banner": "header", "contentinfo": "footer", "complementary": "aside",
    "main": "content", "article": "content",
}  # fmt: skip
REGION_TAGS = {"nav": "nav", "header": "header", "footer": "footer", "aside": "aside", "main": "content",
               "article": "content"}  # fmt: skip
REGION_NAMES = {
    "nav": "nav", "navbar": "nav", "navigation": "nav", "menu": "nav", "breadcrumb": "nav", "breadcrumbs": "nav",
    "header": "header", "masthead": "header", "topbar": "header",
    "footer": "footer", "colophon": "footer",
    "sidebar": "aside",
}  # fmt: skip
"""Class and id names that mark a region: the common ones of WordPress, Bootstrap and hand-written themes."""

TOP = ("content", False)
"""Region state outside every region: (position, inside main or article)."""
SCOPED = ("content", True)
_NAME_TOKENS = re.compile(r"[a-z0-9]+")
_names: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
"""(class, id) -> the regions they name, in order."""


def enter(tag: str, attributes: Mapping[str, str | None], state: tuple[str, bool]) -> tuple[str, bool]:
    """The region state inside an element (its tag and attributes, a valueless one as None), given the state around
    it."""
    if not attributes:
        region = REGION_TAGS.get(tag)
        return state if region is None else _entered(region, state)
    role = attributes.get("role")
    if role:
        role = role.split()
        region = REGION_ROLES.get(role[0].lower()) if role else None
        if region is not None:
            return SCOPED if region == "content" else (region, state[1])
    region = REGION_TAGS.get(tag)
    if region is not None:
        return _entered(region, state)
    key = (attributes.get("class"), attributes.get("id"))
    if key == (None, None):
        return state
    names = _names.get(key)
    if names is None:
        names = _region_names(*key)
        remember(_names, key, names)
    for region in names:
        if not (state[1] and region in ("header", "footer")):
            return (region, state[1])
    return state


def _region_names(class_name: str | None, element_id: str | None) -> tuple[str, ...]:
    """The regions a class and id name, in order: a page's template repeats the same few on hundreds of elements."""
    tokens = _NAME_TOKENS.findall(f"{class_name or ''} {element_id or ''}".lower())
    return tuple(REGION_NAMES[token] for token in tokens if token in REGION_NAMES)


def _entered(region: str, state: tuple[str, bool]) -> tuple[str, bool]:
    if region == "content":
        return SCOPED
    if state[1] and region in ("header", "footer"):
        return state
    return (region, state[1])
