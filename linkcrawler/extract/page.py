"""Every way an HTML page links out, as `Link` records (see `linkcrawler.extract.links`).

One parse (an HTML5 parser's tree, as a browser builds it: `linkcrawler.extract.document`) and one pass over the
link-bearing elements, in document order:

- `a[href]` (and SVG `a[xlink:href]`): type `text`, or `image` when it has no
  text but holds an `img` (anchor = that image's alt text, "" without one);
  text beside an image makes it a `text` link. `area[href]`: type `area`,
  anchor = its alt text. `iframe[src]`, `frame[src]`: type `frame`, no anchor.
- `link[rel~=canonical]` in the head and a `Link: <...>; rel=canonical`
  response header: type `canonical`; `meta[http-equiv=refresh]` with a URL:
  type `redirect`. These sit outside the page's regions: position `content`.
  HTTP redirects are not in the document: each hop is one `Extractor.redirect_link`.
- hrefs resolve against the first `<base href>` anywhere in the document
  (as browsers do), else the final response URL; see `linkcrawler.extract.urls`
  for normalization and the kinds of skipped hrefs.
- rel tokens nofollow, ugc and sponsored, case-insensitive and
  whitespace-separated, in any combination, are kept as the link's own flags.
- Page-level directives come from `<meta name=robots>`, `<meta name=googlebot>`
  and `X-Robots-Tag` headers (directives there that name another crawler,
  `bingbot: nofollow`, are ignored); `none` means noindex and nofollow. A
  nofollow page makes every link on it `follow=False`, whatever its own rel.

Anchors are built by `linkcrawler.extract.anchors`. The `title` attribute is never
anchor text.

Position is the region of the nearest ancestor of the link that names one
(the link's own attributes are not read):

- ARIA roles: navigation -> nav, banner -> header, contentinfo -> footer,
  complementary -> aside, main and article -> content;
- elements: nav, header, footer, aside; main and article -> content;
- class and id names, as whole words split at anything but letters and
  digits (`site-footer` names a footer, `canvas` no nav): nav, navbar,
  navigation, menu, breadcrumb(s) -> nav; header, masthead, topbar -> header;
  footer, colophon -> footer; sidebar -> aside.

As in HTML's own accessibility mapping, a header or footer (element or
class name) inside main or article is the article's own header or footer,
content, not the page's; an explicit ARIA role always counts. Outside every
region a link is in `content`.

Links are deduplicated per page by (target URL, link type, anchor), the
identity the store keys links on. The record kept is the first occurrence,
unless a later duplicate is followed and it is not: then the first followed
occurrence, whole (its flags and position). A page linking to a URL once
with nofollow and once without passes authority, so its link counts as
followed.

Broken HTML yields the links a browser sees in it: the parser recovers from
unclosed, misnested and nested tags as browsers do, at any depth. Only the
first `max_document_length` characters (or bytes) of a document are parsed,
as Google reads only the first 15 MB of an HTML file; a cut document counts
one `truncated` in `PageLinks.skipped`. A page gives at most `max_links`
links: a link farm of 300,000 links in 9 MB, under every size limit, would
otherwise hold hundreds of megabytes in one worker; the link elements left
unread are counted as `over_link_limit`. A parse that takes longer than
`parse_timeout` (markup crafted against the HTML5 tree builder) is given up:
the page keeps its header links and counts one `parse_timeout`.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from w3lib.encoding import html_to_unicode

from linkcrawler import config
from linkcrawler.extract.anchors import link_content, normalize_anchor
from linkcrawler.extract.directives import (
    ROBOTS_META_NAMES,
    header_canonicals,
    header_values,
    is_noindex,
    robots_directives,
)
from linkcrawler.extract.document import LINK_ELEMENTS, DeadlineParser, ParseTimeout, Selector
from linkcrawler.extract.links import SKIP_OVER_LIMIT, Link, PageLinks
from linkcrawler.extract.regions import TOP, enter
from linkcrawler.extract.urls import Normalized, UrlNormalizer

ANCHOR_CACHE_SIZE = 20_000
"""Raw link texts remembered with their normalized anchors; a full cache is emptied and refills."""
logger = logging.getLogger(__name__)

SKIP_TRUNCATED = "truncated"
"""Counted once per document cut at `max_document_length` (the other skip kinds count links)."""
SKIP_PARSE_TIMEOUT = "parse_timeout"
"""Counted once per document given up at `parse_timeout` (`linkcrawler.extract.document.DeadlineParser`)."""

_REFRESH = re.compile(r"\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(.*)", re.I | re.S)


class Extractor:
    """Builds `PageLinks` from HTML; one instance per worker, its URL caches shared by all pages."""

    def __init__(
        self,
        *,
        tracking_params: Iterable[str] = config.TRACKING_PARAMS,
        max_url_length: int = config.default("MAX_URL_LENGTH"),
        max_anchor_length: int = config.default("MAX_ANCHOR_LENGTH"),
        max_document_length: int = config.default("MAX_DOCUMENT_LENGTH"),
        max_links: int = config.default("MAX_LINKS_PER_PAGE"),
        parse_timeout: float = config.default("PARSE_TIMEOUT"),
    ) -> None:
        self.urls = UrlNormalizer(tracking_params, max_url_length)
        self.parser = DeadlineParser(parse_timeout)
        self.selector = Selector()
        self.max_anchor_length = max_anchor_length
        self.max_document_length = max_document_length
        self.max_links = max_links
        self.anchors: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> Extractor:
        """An extractor configured from a Scrapy settings object. Settings read here:

        - `TRACKING_PARAMS`: list of glob patterns (case-insensitive) of query
          parameters removed from every URL; default `config.TRACKING_PARAMS`.
          An empty list keeps every parameter.
        - `MAX_URL_LENGTH` (default 2048): longer normalized URLs are skipped
          and counted as `linkcrawler/skipped/too_long`.
        - `MAX_ANCHOR_LENGTH` (default 300): anchors are cut to this many characters.
        - `MAX_DOCUMENT_LENGTH` (default 15 MiB): characters (or bytes) of a
          document parsed; the rest is ignored and counted as `linkcrawler/skipped/truncated`.
        - `PARSE_TIMEOUT` (default 10 s): a longer parse is given up, counted as
          `linkcrawler/skipped/parse_timeout` (see `DeadlineParser`).
        """
        return cls(
            tracking_params=config.get(settings, "TRACKING_PARAMS"),
            max_url_length=config.get(settings, "MAX_URL_LENGTH"),
            max_anchor_length=config.get(settings, "MAX_ANCHOR_LENGTH"),
            max_document_length=config.get(settings, "MAX_DOCUMENT_LENGTH"),
            max_links=config.get(settings, "MAX_LINKS_PER_PAGE"),
            parse_timeout=config.get(settings, "PARSE_TIMEOUT"),
        )

    def normalize_url(self, href: str, base: str) -> str | None:
        """`href` as the crawler stores and requests it (see `linkcrawler.extract.urls`); None when it is not a link."""
        return self.urls.normalize(href, base).url

    def redirect_link(self, location: str, url: str) -> Link | None:
        """The link an HTTP redirect from `url` to `location` makes, or None if the Location is not a URL."""
        target = self.urls.normalize(location, url)
        if target.url is None:
            return None
        return Link(target.url, target.host, target.domain, "", "redirect")

    def extract(
        self,
        html: str | bytes,
        url: str,
        headers: Mapping[str | bytes, str | bytes | list] | None = None,
        encoding: str | None = None,
    ) -> PageLinks:
        """All links of the document served at `url`, the final URL after redirects; internal ones included.

        `headers` are the response headers (any case; values as str, bytes
        or lists of them, as Scrapy gives them). Bytes are decoded the way
        Scrapy decodes a response: `encoding` if given, else BOM, the
        Content-Type charset, a `<meta>` declaration, then detection.
        """
        headers = header_values(headers)
        known, resolve = self.urls.page(url)
        page_url = resolve(url)
        page = PageLinks(url=page_url.url or url, host=page_url.host, domain=page_url.domain)
        if len(html) > self.max_document_length:
            html = html[: self.max_document_length]
            page.skipped[SKIP_TRUNCATED] += 1
        if isinstance(html, bytes):
            content_type = f"text/html; charset={encoding}" if encoding else headers.get("content-type", "")
            html = html_to_unicode(content_type, html)[1]
        for value in headers.get("x-robots-tag", ()):
            page.robots.extend(robots_directives(value, header=True))
        scan = _Scan(self, page, known, resolve)
        for href in header_canonicals(headers.get("link", "")):
            target = scan.resolve(href)
            if target is not None:
                scan.add(target, "", "canonical", None, "content")
        try:
            tree = self.parser.parse(html)
        except ParseTimeout as timeout:
            logger.warning("gave up parsing %s (%d characters): %s; its links are not read", url, len(html), timeout)
            page.skipped[SKIP_PARSE_TIMEOUT] += 1
            tree = None
        if tree is not None:
            scan.run(tree)
        page.nofollow = "nofollow" in page.robots or "none" in page.robots
        page.noindex = is_noindex(page.robots)
        if page.nofollow:
            for link in page.links:
                link.follow = False
        return page


class _Scan:
    """The single pass over one document: link elements in order, their regions cached per element."""

    def __init__(
        self, extractor: Extractor, page: PageLinks, known: dict[str, Normalized], resolve: Callable[[str], Normalized]
    ) -> None:
        self.urls, self.selector = extractor.urls, extractor.selector
        self.known, self.normalize = known, resolve
        self.max_anchor = extractor.max_anchor_length
        self.max_links = extractor.max_links or sys.maxsize
        self.anchors = extractor.anchors
        self.page = page
        self.seen: dict[tuple[str, str, str], int] = {}
        self.regions: dict[int, tuple[str, bool]] = {}
        """Region states by the element's `mem_id`."""

    def run(self, tree: Any) -> None:
        """Every link element of `tree`; the first `<base href>` anywhere applies to all of them, as in browsers.

        The base is looked for in the head, a short walk (a search of the
        whole tree cost about 90 us on a real page, 3% of its extraction); a
        base that only the body holds is met by the scan, which then starts
        again from the page as it was before, with that base.
        """
        head, select = tree.head, self.selector
        base = select.first("base[href]", head) if head is not None else None
        if base is not None:
            self.rebase(base)
        page = self.page
        before = (len(page.links), dict(page.skipped), len(page.robots), page.canonical, dict(self.seen))
        elements = select.select(LINK_ELEMENTS, tree.root)
        late_base = self.scan(elements, base is None)
        if late_base is not None:
            links, skipped, robots, canonical, seen = before
            del page.links[links:], page.robots[robots:]
            page.skipped.clear()
            page.skipped.update(skipped)
            page.canonical, self.seen = canonical, seen
            self.rebase(late_base)
            self.scan(elements, False)

    def rebase(self, base: Any) -> None:
        """Resolve the page's hrefs against the `<base href>` element `base`, when its href is a URL."""
        resolved = self.normalize(base.attributes["href"] or "").url
        if resolved is not None:
            self.known, self.normalize = self.urls.page(resolved)

    def scan(self, elements: list[Any], base_wanted: bool) -> Any:
        """Every link element in order; the first `<base href>` met when `base_wanted`, to start again with, else None.

        The `a` case, nearly every link, is written out in full: it runs for
        every link of every page, and calls are what it would spend its time
        on. Its href is looked up among those already known for the page's
        origin, and its anchor text among anchors already normalized, before
        anything is called: navigation and footer links repeat on every page
        of a site, and anchors such as "Home" or "Read more" on most sites.
        Lexbor gives a valueless attribute (`<a href>`) as None, where a
        browser reads "".
        """
        normalize, known, skipped = self.normalize, self.known.get, self.page.skipped
        links, seen, regions, anchors = self.page.links, self.seen, self.regions.get, self.anchors.get
        content_anchor, text_anchor, region = self.content_anchor, self.text_anchor, self.region
        max_links = self.max_links
        for count, element in enumerate(elements):
            if len(links) >= max_links:
                skipped[SKIP_OVER_LIMIT] += len(elements) - count
                break
            tag = element.tag
            if tag != "a":
                if tag == "base":
                    if base_wanted and "href" in element.attributes:
                        return element
                else:
                    self.other(element, tag)
                continue
            attributes = element.attributes
            if "href" in attributes:
                href = attributes["href"] or ""
            elif "xlink:href" in attributes:
                href = attributes["xlink:href"] or ""
            else:
                continue
            target = known(href) or normalize(href)
            url = target.url
            if url is None:
                skipped[target.skip] += 1
                continue
            child = element.first_child
            if child is None:
                anchor, link_type = "", "text"
            elif child.is_text_node and child.next is None:
                text = child.text_content
                anchor = (anchors(text) or text_anchor(text)) if text else ""
                link_type = "text"
            else:
                anchor, link_type = content_anchor(element)
            rel = attributes.get("rel")
            if rel:
                tokens = rel.lower().split()
                nofollow, ugc, sponsored = "nofollow" in tokens, "ugc" in tokens, "sponsored" in tokens
                follow = not (nofollow or ugc or sponsored)
            else:
                nofollow = ugc = sponsored = False
                follow = True
            identity = (url, link_type, anchor)
            index = seen.get(identity)
            if index is None:
                parent = element.parent
                position = (regions(parent.mem_id) or region(parent))[0]
                seen[identity] = len(links)
                links.append(Link(url, target.host, target.domain, anchor, link_type, nofollow, ugc, sponsored, follow,
                                  position))  # fmt: skip
            elif follow and not links[index].follow:
                parent = element.parent
                position = (regions(parent.mem_id) or region(parent))[0]
                links[index] = Link(url, target.host, target.domain, anchor, link_type, nofollow, ugc, sponsored,
                                    follow, position)  # fmt: skip
        return None

    def text_anchor(self, text: str) -> str:
        """The anchor of a link's raw text, normalized once for every link that has that text."""
        anchor = normalize_anchor(text, self.max_anchor)
        if len(self.anchors) >= ANCHOR_CACHE_SIZE:
            self.anchors.clear()
        self.anchors[text] = anchor
        return anchor

    def other(self, element: Any, tag: str) -> None:
        if tag == "area" or tag == "iframe" or tag == "frame":
            self.embedded(element, tag)
        elif tag == "link":
            self.canonical(element)
        elif tag == "meta":
            self.meta(element)

    def add(self, target: Normalized, anchor: str, link_type: str, rel: str | None, position: str) -> None:
        """Record a link that is not an `a`, under the same rules as the loop in `run`."""
        tokens = rel.lower().split() if rel else ()
        nofollow, ugc, sponsored = "nofollow" in tokens, "ugc" in tokens, "sponsored" in tokens
        follow = not (nofollow or ugc or sponsored)
        link = Link(target.url, target.host, target.domain, anchor, link_type, nofollow, ugc, sponsored, follow,
                    position)  # fmt: skip
        identity = (target.url, link_type, anchor)
        links = self.page.links
        index = self.seen.get(identity)
        if index is None and len(links) >= self.max_links:
            self.page.skipped[SKIP_OVER_LIMIT] += 1
            return
        if index is None:
            self.seen[identity] = len(links)
            links.append(link)
        elif follow and not links[index].follow:
            links[index] = link
        if link_type == "canonical" and self.page.canonical is None:
            self.page.canonical = target.url

    def resolve(self, href: str) -> Normalized | None:
        target = self.normalize(href)
        if target.url is None:
            self.page.skipped[target.skip] += 1
            return None
        return target

    def content_anchor(self, element: Any) -> tuple[str, str]:
        """(anchor, link type) of an `a` with child elements: an image link when it has no text and holds an image."""
        text, image = link_content(element)
        anchor = (self.anchors.get(text) or self.text_anchor(text)) if text else ""
        if anchor or image is None:
            return anchor, "text"
        return normalize_anchor(image.attributes.get("alt"), self.max_anchor), "image"

    def embedded(self, element: Any, tag: str) -> None:
        """An image-map area or a frame."""
        attributes = element.attributes
        name = "href" if tag == "area" else "src"
        target = self.resolve(attributes[name] or "") if name in attributes else None
        if target is not None:
            rel, position = attributes.get("rel"), self.position(element)
            if tag == "area":
                self.add(target, normalize_anchor(attributes.get("alt"), self.max_anchor), "area", rel, position)
            else:
                self.add(target, "", "frame", rel, position)

    def canonical(self, element: Any) -> None:
        attributes = element.attributes
        rel = attributes.get("rel")
        if rel and "href" in attributes and "canonical" in rel.lower().split() and element.parent.tag == "head":
            target = self.resolve(attributes["href"] or "")
            if target is not None:
                self.add(target, "", "canonical", None, "content")

    def meta(self, element: Any) -> None:
        attributes = element.attributes
        name = attributes.get("name")
        if name and name.strip().lower() in ROBOTS_META_NAMES:
            self.page.robots.extend(robots_directives(attributes.get("content") or ""))
            return
        equiv = attributes.get("http-equiv")
        if equiv and equiv.strip().lower() == "refresh":
            href = _REFRESH.match(attributes.get("content") or "").group(1).strip().strip("'\"").strip()
            target = self.resolve(href) if href else None
            if target is not None:
                self.add(target, "", "redirect", None, "content")

    def position(self, element: Any) -> str:
        parent = element.parent
        return (self.regions.get(parent.mem_id) or self.region(parent))[0]

    def region(self, element: Any) -> tuple[str, bool]:
        """The region state inside `element`, worked out from its nearest known ancestor and remembered.

        Remembered by the element's `mem_id`: selectolax gives a new node object each time a node is reached.
        """
        regions = self.regions
        chain = []
        node = element
        while node is not None:
            key = node.mem_id
            state = regions.get(key)
            if state is not None:
                break
            chain.append((node, key))
            node = node.parent
        else:
            state = TOP
        for node, key in reversed(chain):
            state = regions[key] = enter(node.tag, node.attributes, state)
        return state
