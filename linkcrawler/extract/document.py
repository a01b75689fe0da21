"""From a response body to a parsed document: whether it is HTML, and its tree, without what no reader sees.

Template content (`<template>`) is inert: no reader sees it and no crawler
follows its links until a script clones it into the page, so it is removed
from the tree before links are read.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.etree

LINK_TAGS = ("a", "area", "iframe", "frame", "link", "meta", "base")
"""The elements that can link out (`base` changes how the others resolve)."""
_BINARY_SIGNATURES = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"\x1f\x8b", b"OggS")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*>")
_KEPT_TAGS = frozenset(("html", "head", "body", "img", "template", *LINK_TAGS))
_TEMPLATE = re.compile(r"<template", re.I)


def is_html(content_type: str | None, body_start: bytes) -> bool:
    """Whether a response is HTML worth parsing: by its Content-Type, and never when it is binary.

    PDFs, images and JSON are recorded as pages but not parsed. A body that
    starts like a known binary format or holds NUL bytes in its first
    kilobyte is not parsed whatever its label (servers label downloads
    text/html). Without a Content-Type the body is sniffed for an HTML start.
    """
    head = body_start[:1024]
    if head.startswith(_BINARY_SIGNATURES) or b"\x00" in head:
        return False
    if content_type:
        kind = content_type.split(";", 1)[0].strip().lower()
        return kind in ("text/html", "application/xhtml+xml")
    sniff = head.lstrip().lower()
    return sniff.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


class Parser:
    """lxml's HTML parser set up for link extraction; one per extractor, as lxml parsers are not thread-safe.

    It builds plain `lxml.etree` elements (`lxml.html`'s element classes cost
    a class lookup on every element touched, for methods we do not use),
    drops comments and processing instructions (never link text), and lifts
    libxml2's limits on text size and depth: the document size is capped
    before parsing instead.
    """

    def __init__(self) -> None:
        options = {"huge_tree": True, "remove_comments": True, "remove_pis": True}
        self.text = lxml.etree.HTMLParser(**options)
        self.utf8 = lxml.etree.HTMLParser(encoding="utf-8", **options)

    def parse(self, html: str) -> Any:
        """The document's root element, or None when it has none.

        A document nested past libxml2's depth limit (2048) loses everything
        after that point, so it is parsed again without its non-link tags.
        Template content is dropped (the text is searched first: walking
        every tree for templates would cost every page a pass).
        """
        if not html or html.isspace():
            return None
        root = self._parse(html)
        if root is not None and self._hit_limit():
            root = self._parse(_TAG.sub(_kept_tag, html))
        if root is not None and _TEMPLATE.search(html):
            _drop_templates(root)
        return root

    def _parse(self, html: str) -> Any:
        self.last = self.text
        try:
            return lxml.etree.fromstring(html, self.text)
        except (lxml.etree.XMLSyntaxError, ValueError):  # an XML declaration, characters lxml refuses in a str
            self.last = self.utf8
            try:
                return lxml.etree.fromstring(html.encode("utf-8", "surrogatepass"), self.utf8)
            except (lxml.etree.XMLSyntaxError, ValueError):
                return None

    def _hit_limit(self) -> bool:
        error = self.last.error_log.last_error
        return error is not None and error.type == lxml.etree.ErrorTypes.ERR_RESOURCE_LIMIT


def _kept_tag(match: re.Match) -> str:
    return match.group(0) if match.group(2).lower() in _KEPT_TAGS else ""


def _drop_templates(root: Any) -> None:
    """Remove every `<template>` and its content, keeping the text that follows it."""
    for template in list(root.iter("template")):
        parent = template.getparent()
        if parent is None:
            continue
        if template.tail:
            previous = template.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + template.tail
            else:
                parent.text = (parent.text or "") + template.tail
        parent.remove(template)
