"""Extraction against what Chromium reads from the same bytes, on the shared corpus's real pages.

For every page of `../shared/corpus/readability-pages`, Debian's chromium
parses the HTML with its own parser (`DOMParser`, scripting off, as a
crawler reads a page: `<noscript>` content is markup, `<template>` content
is not in the document) in a page served at the corpus's base URL, and
resolves every href with its own URL parser against the document's base
(`<base href>` included). From that tree the test builds the links a reader
of the browser's view would record: the browser's resolved URL in our stored
form, the anchor text of the browser's element (flattened by
`link_content`'s rules, which this file states again in JavaScript), the
rel flags, the link type and the region of the browser's ancestors. The
extractor must give exactly those links, in document order, on every page.

Meta refresh targets are left out: a browser does not parse their content
into a URL until it refreshes. Without chromium or without the corpus the
tests skip with one line saying why.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest
from w3lib.encoding import html_to_unicode

from linkcrawler.extract.anchors import BLOCK_TAGS, HIDDEN_TAGS, normalize_anchor
from linkcrawler.extract.directives import ROBOTS_META_NAMES, robots_directives
from linkcrawler.extract.page import Extractor
from linkcrawler.extract.regions import TOP, enter

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium")
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "readability-pages"
PAGE_URL = "http://fakehost/test/page.html"
"""The base URL the corpus's README gives for its pages."""
PAGES = sorted(path.name.removesuffix(".html.gz") for path in CORPUS.glob("*.html.gz"))

if CHROMIUM is None:
    pytest.skip("no chromium: `apt-get install chromium` (Debian) runs the browser tests", allow_module_level=True)
if not PAGES:
    pytest.skip(f"no real pages at {CORPUS}: the shared corpus is not beside the repository", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

BROWSER_VIEW = """([html, blockTags, hiddenTags]) => {
    const blocks = new Set(blockTags), hidden = new Set(hiddenTags);
    const doc = new DOMParser().parseFromString(html, "text/html");
    const resolve = (raw) => {
        if (raw === null) return null;
        try { return new URL(raw, doc.baseURI).href; } catch (error) { return ""; }
    };
    const text = (node, parts) => {
        for (const child of node.childNodes) {
            if (child.nodeType === Node.TEXT_NODE) parts.push(child.data);
            else if (child.nodeType === Node.ELEMENT_NODE && !hidden.has(child.localName)) {
                const block = blocks.has(child.localName);
                if (block) parts.push(" ");
                text(child, parts);
                if (block) parts.push(" ");
            }
        }
        return parts.join("");
    };
    const ancestors = (element) => {
        const chain = [];
        for (let node = element.parentElement; node !== null; node = node.parentElement) {
            const attributes = {};
            for (const name of ["role", "class", "id"]) {
                if (node.hasAttribute(name)) attributes[name] = node.getAttribute(name);
            }
            chain.push([node.localName, attributes]);
        }
        return chain.reverse();
    };
    const elements = [];
    for (const element of doc.querySelectorAll("a, area, iframe, frame, link, meta")) {
        const tag = element.localName;
        const raw = tag === "iframe" || tag === "frame" ? element.getAttribute("src")
            : element.getAttribute("href") ?? (tag === "a" ? element.getAttribute("xlink:href") : null);
        const image = tag === "a" ? element.querySelector("img") : null;
        elements.push({
            tag, raw, url: resolve(raw), rel: element.getAttribute("rel"),
            text: tag === "a" ? text(element, []) : null,
            alt: tag === "area" ? element.getAttribute("alt") : image === null ? null : image.getAttribute("alt"),
            image: image !== null, parent: element.parentElement ? element.parentElement.localName : null,
            name: element.getAttribute("name"), content: element.getAttribute("content"),
            chain: ancestors(element),
        });
    }
    return elements;
}"""


def _position(chain: list[list[Any]]) -> str:
    """The region of a link whose ancestors, from the root down, are [tag, {role, class, id}] in the browser."""
    state = TOP
    for tag, attributes in chain:
        state = enter(tag, attributes, state)
    return state[0]


def browser_links(elements: list[dict[str, Any]]) -> list[tuple]:
    """The links of a page as recorded from the browser's view of it, deduplicated as `PageLinks.links` is."""
    normalize = Extractor().normalize_url
    robots: list[str] = []
    found = []
    for element in elements:
        tag = element["tag"]
        if tag == "meta":
            name = (element["name"] or "").strip().lower()
            if name in ROBOTS_META_NAMES:
                robots.extend(robots_directives(element["content"] or ""))
            continue
        canonical = element["parent"] == "head" and "canonical" in (element["rel"] or "").lower().split()
        if tag == "link" and not canonical:
            continue
        if element["raw"] is None or not element["url"]:
            continue
        url = normalize(element["url"], element["url"])
        if url is None:
            continue
        if tag == "a":
            anchor = normalize_anchor(element["text"])
            link_type = "image" if not anchor and element["image"] else "text"
            if link_type == "image":
                anchor = normalize_anchor(element["alt"])
        elif tag == "area":
            anchor, link_type = normalize_anchor(element["alt"]), "area"
        else:
            anchor, link_type = "", "canonical" if tag == "link" else "frame"
        tokens = (element["rel"] or "").lower().split() if tag != "link" else []
        flags = ("nofollow" in tokens, "ugc" in tokens, "sponsored" in tokens)
        position = "content" if tag == "link" else _position(element["chain"])
        found.append([url, anchor, link_type, *flags, not any(flags), position])
    page_nofollow = "nofollow" in robots or "none" in robots
    links: list[list[Any]] = []
    first: dict[tuple[str, str, str], int] = {}
    for link in found:
        identity = (link[0], link[2], link[1])
        if identity not in first:
            first[identity] = len(links)
            links.append(link)
        elif link[6] and not links[first[identity]][6]:
            links[first[identity]] = link
    return [(*link[:6], link[6] and not page_nofollow, link[7]) for link in links]


def extracted_links(html: str) -> list[tuple]:
    page = Extractor().extract(html, PAGE_URL)
    return [
        (link.target_url, link.anchor, link.link_type, link.nofollow, link.ugc, link.sponsored, link.follow,
         link.position)
        for link in page.links
        if link.link_type != "redirect"
    ]  # fmt: skip


def read_page(name: str) -> str:
    """The page's text as a crawl reads it, served as UTF-8 (the corpus's encoding): Scrapy's decoding, BOM dropped."""
    return html_to_unicode("text/html; charset=utf-8", gzip.decompress((CORPUS / f"{name}.html.gz").read_bytes()))[1]


@pytest.fixture(scope="module")
def browser_view():
    """Page name -> the link elements chromium reads from it, each page parsed in a blank page at the base URL."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = chromium.new_context().new_page()
            page.route("**/*", lambda route: route.fulfill(body="<!DOCTYPE html><title>blank</title>",
                                                           content_type="text/html")
                       if route.request.url == PAGE_URL else route.abort())  # fmt: skip
            page.goto(PAGE_URL)
            yield {name: page.evaluate(BROWSER_VIEW, [read_page(name), sorted(BLOCK_TAGS), sorted(HIDDEN_TAGS)])
                   for name in PAGES}  # fmt: skip
        finally:
            chromium.close()


@pytest.mark.parametrize("name", PAGES)
def test_every_link_anchor_and_rel_flag_is_what_chromium_reads(name, browser_view):
    assert extracted_links(read_page(name)) == browser_links(browser_view[name])
