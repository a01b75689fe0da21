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
the parse is bounded in time instead (`DeadlineParser`): the worker gives up
on such a page after `PARSE_TIMEOUT` seconds and serves the others.
"""

from __future__ import annotations

import queue
import threading

from selectolax.lexbor import LexborCSSSelector, LexborDocumentOptions, LexborHTMLParser, LexborNode

from linkcrawler import config

LINK_TAGS = ("a", "area", "iframe", "frame", "link", "meta", "base")
"""The elements that can link out (`base` changes how the others resolve)."""
LINK_ELEMENTS = ", ".join(LINK_TAGS)
"""A selector of every link element: Lexbor finds them in document order, in C."""
INLINE_LENGTH = 16 * 1024
"""Documents shorter than this are parsed in the calling thread: the worst markup known takes about 0.3 s at this
length (the cubic case above), and a thread hand-off would cost more than most such parses."""
RUNAWAY_LIMIT = 2
"""Given-up parses still running past which a worker should stop (`DeadlineParser.runaway`): each holds a core."""
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


class Selector:
    """CSS selection with one Lexbor selector engine per thread, kept from one document to the next.

    `tree.css` builds a CSS parser and a selector engine for each document:
    on a 2 KB page that took as long as finding its link elements. An
    engine is not safe to share between threads, hence one per thread.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def select(self, query: str, node: LexborNode) -> list[LexborNode]:
        """The elements under `node` (itself included) that `query` matches, in document order."""
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = LexborCSSSelector()
        return engine.find(query, node)

    def first(self, query: str, node: LexborNode) -> LexborNode | None:
        """The first element under `node` that `query` matches, or None."""
        found = self.select(query, node)
        return found[0] if found else None


class ParseTimeout(Exception):
    """A parse went past its deadline; it goes on in a thread of its own, whose result nobody reads."""


class DeadlineParser:
    """`parse` with a deadline, so that one crafted page cannot stall a worker (see the module's docstring).

    Long documents are parsed in a daemon thread while the caller waits up to
    `timeout` seconds; Lexbor releases the GIL while it parses. A parse past
    its deadline cannot be interrupted (it is C), so its thread is left to
    finish alone and the next long document gets a new one. `runaway` counts
    those still running: a worker holding `RUNAWAY_LIMIT` of them should be
    restarted, which ends them.
    """

    def __init__(self, timeout: float = config.default("PARSE_TIMEOUT")) -> None:
        self.timeout = timeout
        self._thread: _ParseThread | None = None
        self._abandoned: list[_ParseThread] = []

    def parse(self, html: str) -> LexborHTMLParser | None:
        """`parse(html)`; raises `ParseTimeout` when a long document takes more than `timeout` seconds."""
        if len(html) < INLINE_LENGTH or self.timeout <= 0:
            return parse(html)
        if self._thread is None:
            self._thread = _ParseThread()
        job = self._thread.submit(html)
        if not job.done.wait(self.timeout):
            self._thread.abandon()
            self._abandoned.append(self._thread)
            self._thread = None
            raise ParseTimeout(f"no tree after {self.timeout:g} s")
        return job.outcome()

    def runaway(self) -> int:
        """Given-up parses whose threads are still running."""
        self._abandoned = [thread for thread in self._abandoned if thread.is_alive()]
        return len(self._abandoned)


class _Job:
    def __init__(self, html: str) -> None:
        self.html = html
        self.done = threading.Event()
        self.tree: LexborHTMLParser | None = None
        self.error: BaseException | None = None

    def outcome(self) -> LexborHTMLParser | None:
        if self.error is not None:
            raise self.error
        return self.tree


class _ParseThread(threading.Thread):
    """Parses the documents it is given, one at a time, until it is abandoned."""

    def __init__(self) -> None:
        super().__init__(name="lexbor-parse", daemon=True)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.start()

    def submit(self, html: str) -> _Job:
        job = _Job(html)
        self._jobs.put(job)
        return job

    def abandon(self) -> None:
        """Stop after the document in hand."""
        self._jobs.put(None)

    def run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job.tree = parse(job.html)
            except BaseException as error:  # handed to the caller, who raises it
                job.error = error
            job.html = ""
            job.done.set()
