"""Anchor text classes, as the anchor reports of Ahrefs, Majestic and Moz group them.

A class is decided from the case-folded anchor and the target's registered
domain alone, so it is the same wherever it is computed. Order matters: an
anchor that is a URL ("www.acme.com") is a naked URL even though it holds the
brand; an image link without alt text is empty.
"""

from __future__ import annotations

import re

ANCHOR_CLASSES = ("branded", "naked_url", "generic", "empty", "other")

GENERIC_ANCHORS = frozenset(
    {
        "click here", "click", "here", "read more", "more", "learn more", "this", "this article",
        "this post", "this page", "link", "website", "this website", "site", "source", "go",
        "visit", "visit website", "details", "more info", "continue reading", "see more",
    }
)  # fmt: skip
"""Anchors that say nothing about the target (case-folded, whitespace collapsed)."""

_NAKED_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:[/?#]\S*)?$")
_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(anchor: str) -> str:
    """The form anchors are counted under: case-folded, whitespace collapsed."""
    return " ".join(anchor.casefold().split())


def brand_key(domain: str) -> str:
    """The brand a registered domain carries: its first label without punctuation (`maple-news.co.uk` -> maplenews)."""
    return _NOT_ALNUM.sub("", domain.split(".", 1)[0].casefold())


def classify_anchor(anchor: str, domain: str) -> str:
    """One of ANCHOR_CLASSES for an anchor of a link to registered domain `domain`."""
    text = fold(anchor)
    if not text:
        return "empty"
    if " " not in text and _NAKED_URL.match(text):
        return "naked_url"
    brand = brand_key(domain)
    if brand and brand in _NOT_ALNUM.sub("", text):
        return "branded"
    if text in GENERIC_ANCHORS:
        return "generic"
    return "other"
