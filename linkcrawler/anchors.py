"""Anchor text as users compare it: one string per link, the same however the markup spelled it."""

from __future__ import annotations

import unicodedata

DEFAULT_MAX_ANCHOR_LENGTH = 300


def normalize_anchor(text: str, max_length: int = DEFAULT_MAX_ANCHOR_LENGTH) -> str:
    """NFKC, whitespace runs collapsed to one space, trimmed, capped at `max_length` characters.

    Case is kept (the profile job case-folds when it counts anchors); entities
    are already decoded by the HTML parser; an empty anchor stays empty.
    """
    if not text:
        return ""
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    return text[:max_length].rstrip() if len(text) > max_length else text
