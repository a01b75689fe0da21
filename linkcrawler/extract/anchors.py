"""Anchor text as users compare it: one string per link, the same however the markup spelled it.

Two steps. `link_content` flattens a link element's content the way a reader
sees it: nested inline markup joins up (`<b>Fi</b>sh` is "Fish"), block-level
elements and `<br>` separate words (`<h3>Title</h3><p>Text</p>` is "Title
Text", not "TitleText"), and script, style and template content is not text.
Entities are decoded by the HTML parser before either step; decoding again
here would turn a literal `&amp;lt;` into `<`.

`normalize_anchor` then makes equal-looking anchors equal: Unicode NFKC (full
width letters, ligatures and non-breaking spaces become their plain forms),
control characters and invisible characters that are not whitespace
(zero-width space, word joiner, byte order mark, soft hyphen) removed, whitespace runs collapsed to one
space, ends trimmed, length capped. Case is kept: the profile job case-folds
when it counts anchors, and users want to see the anchor as written. An empty
anchor stays empty; it is never replaced by the link's `title` or
`aria-label` (search engines and backlink tools use visible text).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from linkcrawler import config

BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
))  # fmt: skip
"""Elements that end a word: their content never runs into the text around them."""

HIDDEN_TAGS = frozenset(("script", "style", "template"))
"""Elements whose content is code or inert markup, not text a reader sees."""

_INVISIBLE = str.maketrans(dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), 0xAD, 0x200B, 0x2060, 0xFEFF]))
"""Control characters and invisible characters that are not whitespace (whitespace is collapsed before)."""


def normalize_anchor(text: str | None, max_length: int = config.default("MAX_ANCHOR_LENGTH")) -> str:
    """`text` in the form anchors are stored and compared in (see the module docstring)."""
    if not text:
        return ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    if not text.isprintable():
        text = " ".join(text.translate(_INVISIBLE).split())
    return text[:max_length].rstrip() if len(text) > max_length else text


def link_content(element: Any) -> tuple[str, Any]:
    """(the text a reader sees in a parsed element, the first `img` inside it or None).

    Inline markup joins up, blocks and `<br>` are word breaks, script and
    style content is no text (template content is not in the tree), nor are
    comments. Walked with an explicit stack: a page may nest elements deeper
    than Python's recursion limit.
    """
    parts: list[str] = []
    image = None
    open_elements: list[tuple[Any, bool]] = []
    node = element.first_child
    while node is not None:
        if node.is_text_node:
            parts.append(node.text_content)
        elif node.is_element_node:
            tag = node.tag
            if tag not in HIDDEN_TAGS:
                if image is None and tag == "img":
                    image = node
                block = tag in BLOCK_TAGS
                if block:
                    parts.append(" ")
                child = node.first_child
                if child is not None:
                    open_elements.append((node, block))
                    node = child
                    continue
                if block:
                    parts.append(" ")
        following = node.next
        while following is None and open_elements:
            node, block = open_elements.pop()
            if block:
                parts.append(" ")
            following = node.next
        node = following
    return "".join(parts), image
