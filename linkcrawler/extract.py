"""Every way an HTML page links out, as `Link` records (see `linkcrawler.links`).

One lxml parse and one pass over the link-bearing elements:

- `a[href]`: type `text`, or `image` when its only content is an image
  (anchor = the image's alt text); `area[href]`: type `area` (anchor = alt);
- `link[rel~=canonical]`: type `canonical`; `iframe[src]`, `frame[src]`:
  type `frame`; `meta[http-equiv=refresh]`: type `redirect`
  (HTTP redirects come from the spider through `redirect_links`);
- rel tokens nofollow / ugc / sponsored, case-insensitive, in any
  combination; page-level nofollow from `<meta name=robots|googlebot>` and
  the `X-Robots-Tag` header (`none` counts as noindex + nofollow);
- position: the nearest enclosing region: `nav`, `header`, `footer`,
  `aside` elements; ARIA roles navigation, banner, contentinfo,
  complementary; and class or id tokens (nav, navbar, menu, breadcrumb ->
  nav; header, masthead, topbar -> header; footer -> footer; sidebar,
  widget -> aside). `main`, `article` and role=main end the search:
  anything inside them that is not in a nearer region is content.

The anchor `title` attribute is never used as anchor text: search engines
weigh the visible text, and so do backlink tools. Links are deduplicated per
page by (target URL, link type, anchor); the first occurrence keeps its
attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import lxml.etree
from w3lib.encoding import html_to_unicode

from linkcrawler.anchors import DEFAULT_MAX_ANCHOR_LENGTH, normalize_anchor
from linkcrawler.links import Link, PageLinks
from linkcrawler.urls import DEFAULT_TRACKING_PARAMS, UrlNormalizer, registered_domain, split_host

REGION_TAGS = {"nav": "nav", "header": "header", "footer": "footer", "aside": "aside"}
REGION_ROLES = {"navigation": "nav", "banner": "header", "contentinfo": "footer", "complementary": "aside"}
REGION_TOKENS = {
    "nav": "nav", "navbar": "nav", "navigation": "nav", "menu": "nav", "breadcrumb": "nav", "breadcrumbs": "nav",
    "header": "header", "masthead": "header", "topbar": "header",
    "footer": "footer",
    "sidebar": "aside", "widget": "aside",
}  # fmt: skip
CONTENT_TAGS = frozenset({"main", "article", "body"})
_TOKEN_SPLIT = re.compile(r"[\s_-]+")
_REFRESH_URL = re.compile(r"^\s*\d*(?:\.\d*)?\s*[;,]?\s*(?:url\s*=\s*)?(.*)$", re.I | re.S)
_LINK_TAGS = ("a", "area", "link", "iframe", "frame", "meta", "base")
_HTML_PARSER = lxml.etree.HTMLParser()
_BINARY_SIGNATURES = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04")


def is_html(content_type: str | None, body_start: bytes) -> bool:
    """Whether a response is HTML worth parsing: by its Content-Type, and never when it is binary.

    A body that starts like a known binary format or holds NUL bytes is not
    parsed whatever its label. Without a Content-Type the body is sniffed.
    """
    head = body_start[:1024]
    if head.startswith(_BINARY_SIGNATURES) or b"\x00" in head:
        return False
    if content_type:
        kind = content_type.split(";", 1)[0].strip().lower()
        return kind in ("text/html", "application/xhtml+xml")
    sniff = head.lstrip().lower()
    return sniff.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


class Extractor:
    """Builds `PageLinks` from HTML; one instance per worker, its caches shared by all pages."""

    def __init__(
        self,
        *,
        tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS,
        max_url_length: int = 2048,
        max_anchor_length: int = DEFAULT_MAX_ANCHOR_LENGTH,
    ) -> None:
        self.urls = UrlNormalizer(tracking_params, max_url_length)
        self.max_anchor_length = max_anchor_length

    @classmethod
    def from_settings(cls, settings: Any) -> Extractor:
        """Settings read here:

        - `TRACKING_PARAMS` (list of glob patterns, default `urls.DEFAULT_TRACKING_PARAMS`):
          query parameters removed from every URL.
        - `MAX_URL_LENGTH` (default 2048): longer URLs are skipped (`linkcrawler/skipped/too_long`).
        - `MAX_ANCHOR_LENGTH` (default 300): anchors are cut to this many characters.
        """
        return cls(
            tracking_params=settings.getlist("TRACKING_PARAMS") or DEFAULT_TRACKING_PARAMS,
            max_url_length=settings.getint("MAX_URL_LENGTH", 2048),
            max_anchor_length=settings.getint("MAX_ANCHOR_LENGTH", DEFAULT_MAX_ANCHOR_LENGTH),
        )

    def normalize_url(self, href: str, base: str) -> str | None:
        return self.urls.normalize(href, base).url

    def redirect_link(self, location: str, url: str) -> Link | None:
        """The link an HTTP redirect from `url` to `location` makes, or None if the Location is not a URL."""
        target = self.urls.normalize(location, url)
        return self._link(target.url, target.host, "", "redirect") if target.url else None

    def extract(
        self, html: str | bytes, url: str, headers: Mapping[str, Any] | None = None, encoding: str | None = None
    ) -> PageLinks:
        """All links of the document at `url` (the final URL, after redirects), internal ones included."""
        headers = {k.lower(): _header_text(v) for k, v in (headers or {}).items()}
        page_url = self.normalize_url(url, url) or url
        host, domain = split_host(page_url)
        page = PageLinks(url=page_url, host=host, domain=domain)
        if isinstance(html, bytes):
            content_type = f"text/html; charset={encoding}" if encoding else headers.get("content-type")
            html = html_to_unicode(content_type, html)[1]
        root = _parse(html)
        page.robots = _robots_directives(headers.get("x-robots-tag", ""))
        if root is None:
            page.nofollow, page.noindex = _page_flags(page.robots)
            return page
        self._collect(root, url, page)
        return page

    def _collect(self, root: Any, url: str, page: PageLinks) -> None:
        base = url
        found: list[tuple[str, str, str, str, Any]] = []
        for element in root.iter(_LINK_TAGS):
            tag = element.tag
            if tag == "a" or tag == "area":
                href = element.get("href")
                if href is not None:
                    found.append((href, *self._anchor(element), element.get("rel", ""), element))
            elif tag == "link":
                rel = element.get("rel", "").lower().split()
                if "canonical" in rel and element.get("href") is not None:
                    found.append((element.get("href"), "", "canonical", "", None))
            elif tag == "iframe" or tag == "frame":
                if element.get("src") is not None:
                    found.append((element.get("src"), "", "frame", "", element))
            elif tag == "meta":
                self._meta(element, found, page)
            elif tag == "base" and base is url and element.get("href"):
                base = self.normalize_url(element.get("href"), url) or url
        page.nofollow, page.noindex = _page_flags(page.robots)
        seen: set[tuple[str, str, str]] = set()
        for href, anchor, link_type, rel, element in found:
            target, skipped, target_host = self.urls.normalize(href, base)
            if target is None:
                page.skipped[skipped] += 1
                continue
            if link_type == "canonical":
                page.canonical = page.canonical or target
            identity = (target, link_type, anchor)
            if identity in seen:
                continue
            seen.add(identity)
            link = self._link(target, target_host, anchor, link_type, rel, page.nofollow)
            link.position = _position(element) if element is not None else "content"
            page.links.append(link)

    def _anchor(self, element: Any) -> tuple[str, str]:
        """(anchor, link type) of an `a` or `area` element."""
        if element.tag == "area":
            return normalize_anchor(element.get("alt", ""), self.max_anchor_length), "area"
        text = normalize_anchor("".join(element.itertext()), self.max_anchor_length)
        if text:
            return text, "text"
        for image in element.iter("img"):
            return normalize_anchor(image.get("alt", ""), self.max_anchor_length), "image"
        return "", "text"

    def _meta(self, element: Any, found: list, page: PageLinks) -> None:
        name = (element.get("name") or "").strip().lower()
        if name in ("robots", "googlebot"):
            page.robots.extend(_robots_directives(element.get("content", "")))
        elif (element.get("http-equiv") or "").strip().lower() == "refresh":
            match = _REFRESH_URL.match(element.get("content", ""))
            target = match.group(1).strip().strip("'\"") if match else ""
            if target:
                found.append((target, "", "redirect", "", None))

    def _link(
        self, target: str, host: str, anchor: str, link_type: str, rel: str = "", page_nofollow: bool = False
    ) -> Link:
        tokens = rel.lower().split() if rel else ()
        nofollow, ugc, sponsored = "nofollow" in tokens, "ugc" in tokens, "sponsored" in tokens
        return Link(
            target_url=target,
            target_host=host,
            target_domain=registered_domain(host),
            anchor=anchor,
            link_type=link_type,
            nofollow=nofollow,
            ugc=ugc,
            sponsored=sponsored,
            follow=not (nofollow or ugc or sponsored or page_nofollow),
        )


def _parse(html: str) -> Any:
    """The document's root element, or None for an empty or unparsable document.

    Plain `lxml.etree` elements: `lxml.html`'s element classes cost a class
    lookup on every element touched, for methods we do not use.
    """
    if not html.strip():
        return None
    try:
        return lxml.etree.fromstring(html, _HTML_PARSER)
    except (lxml.etree.XMLSyntaxError, ValueError):
        try:
            return lxml.etree.fromstring(html.encode("utf-8", "replace"), _HTML_PARSER)
        except (lxml.etree.XMLSyntaxError, ValueError):
            return None


def _header_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_header_text(v) for v in value)
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _robots_directives(content: str) -> list[str]:
    """Directive tokens of a meta robots content or X-Robots-Tag value (`googlebot: nofollow` -> nofollow)."""
    tokens = []
    for part in content.lower().split(","):
        token = part.split(":", 1)[-1].strip() if ":" in part and "unavailable_after" not in part else part.strip()
        if token:
            tokens.append(token)
    return tokens


def _page_flags(directives: list[str]) -> tuple[bool, bool]:
    """(nofollow, noindex) for a page's robots directives."""
    return ("nofollow" in directives or "none" in directives), ("noindex" in directives or "none" in directives)


def _position(element: Any) -> str:
    """The page region holding `element`: the nearest region ancestor, content by default."""
    for ancestor in element.iterancestors():
        tag = ancestor.tag
        if not isinstance(tag, str):
            continue
        region = REGION_TAGS.get(tag) or REGION_ROLES.get((ancestor.get("role") or "").lower())
        if region:
            return region
        if tag in CONTENT_TAGS or ancestor.get("role") == "main":
            return "content"
        for token in _class_tokens(ancestor):
            region = REGION_TOKENS.get(token)
            if region:
                return region
    return "content"


def _class_tokens(element: Any) -> Iterable[str]:
    attributes = f"{element.get('class') or ''} {element.get('id') or ''}".strip().lower()
    return _TOKEN_SPLIT.split(attributes) if attributes else ()
