"""Where on its page a link sits: `content`, `nav`, `header`, `footer` or `aside`.

The rules are in `linkcrawler.extract.page`'s docstring; the state a scan
carries down the tree is (position, inside main or article), since a header
or footer inside an article is the article's own, content.
"""

from __future__ import annotations

import re
from typing import Any

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


def enter(node: Any, state: tuple[str, bool]) -> tuple[str, bool]:
    """The region state inside `node`, given the state around it."""
    if not node.keys():
        region = REGION_TAGS.get(node.tag)
        return state if region is None else _entered(region, state)
    role = (node.get("role") or "").split()
    region = REGION_ROLES.get(role[0].lower()) if role else None
    if region is not None:
        return SCOPED if region == "content" else (region, state[1])
    region = REGION_TAGS.get(node.tag)
    if region is not None:
        return _entered(region, state)
    names = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
    for token in _NAME_TOKENS.findall(names):
        region = REGION_NAMES.get(token)
        if region is not None and not (state[1] and region in ("header", "footer")):
            return (region, state[1])
    return state


def _entered(region: str, state: tuple[str, bool]) -> tuple[str, bool]:
    if region == "content":
        return SCOPED
    if state[1] and region in ("header", "footer"):
        return state
    return (region, state[1])
