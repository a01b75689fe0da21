"""From a response body to a parsed document: whether it is HTML, and its tree as a browser builds it.

The parser is Lexbor (through `selectolax`), an HTML5 parser: from the same
text it builds the tree Chromium builds, so a link nested in another, an
unclosed or misnested tag, a link inside a table and a `<head>` closed by an
element that cannot be in it land where a browser puts them (the suite's
browser-view test compares every link of the shared corpus with Chromium's).
It also parses these pages in less than half lxml's time. Nesting of any
depth is kept (Chromium stops nesting at 512 levels).

Scripting is off, as for a crawler that runs no scripts: the content of
`<noscript>` is markup and its links are links (a `<noscript>` in the head
holding an image closes the head, as in a browser without scripts).
Template content (`<template>`) is inert: no reader sees it and no crawler
follows its links until a script clones it into the page, and it is not part
of the tree that is read.

The HTML5 tree-building algorithm is superlinear on some markup, and Lexbor
follows it without Chromium's cap of 512 levels: 40,000 unclosed `div`s
(200 KB) take 2.8 s, 2,000 lines of `<div><b class=cN>line</div>` (unclosed
formatting elements with distinct attributes, 71 KB) 0.8 s, and a page
crafted for it (lexbor issue 340) 2 s at 29 KB, growing as the cube of its
size. lxml parsed each of these in milliseconds, and has its own (50,000
attributes on one tag, 438 KB: 3.4 s). Counting tags before parsing would
cost about a tenth of an extraction and a crafted page defeats the count, so
no pre-check is made here: a bound on a page's extraction time belongs to
the worker.
"""

from __future__ import annotations

from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser

LINK_TAGS = ("a", "area", "iframe", "frame", "link", "meta", "base")
"""The elements that can link out (`base` changes how the others resolve)."""
LINK_ELEMENTS = ", ".join(LINK_TAGS)
"""A selector of every link element: Lexbor finds them in document order, in C."""
_BINARY_SIGNATURES = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"\x1f\x8b", b"OggS")


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


def parse(html: str) -> LexborHTMLParser | None:
    """The document's tree, or None when the text is empty.

    Without Lexbor's DOM mutation events (`WO_EVENTS`): the tree holds what
    the markup holds, and a `<select>` of thousands of options parses in
    linear time (with them, 16,000 options took 1.4 s, copying the
    selected one into place again for each).
    """
    if not html or html.isspace():
        return None
    return LexborHTMLParser(html, options=LexborDocumentOptions.WO_EVENTS)
