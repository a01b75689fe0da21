"""The records extraction produces: one `Link` per outgoing link, one `PageLinks` per document.

These are the shapes every other part agrees on: the spider builds them, the
pipelines turn them into MongoDB documents, `linkcrawler extract` prints them
and the synthetic web's ground truth is written in the same terms. They hold
no Scrapy or MongoDB types so that tests can build and compare them directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

LINK_TYPES = ("text", "image", "area", "canonical", "redirect", "frame")
"""Every value `Link.link_type` takes.

text: an `a` element; image: an `a` whose anchor is an image (anchor = alt text);
area: an image-map `area`; canonical: `<link rel=canonical>`; redirect: an HTTP
redirect or a meta refresh; frame: an `iframe` (or `frame`) src.
"""

POSITIONS = ("content", "nav", "header", "footer", "aside")
"""Every value `Link.position` takes: the page region the link sits in."""


SKIP_OVER_LIMIT = "over_link_limit"
"""Link elements left unread once a page has given its `MAX_LINKS_PER_PAGE` links."""


@dataclass(slots=True)
class Link:
    """One outgoing link of a page, normalized.

    `nofollow`, `ugc` and `sponsored` keep the link's own rel tokens. `follow`
    is the effective state, the one that passes authority: false when any of
    the three is set (search engines treat ugc and sponsored as nofollow hints,
    and Ahrefs and Moz do not count them as dofollow) and false when the whole
    page is nofollow (meta robots, meta googlebot, X-Robots-Tag).
    """

    target_url: str
    target_host: str
    target_domain: str
    anchor: str
    link_type: str
    nofollow: bool = False
    ugc: bool = False
    sponsored: bool = False
    follow: bool = True
    position: str = "content"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class PageLinks:
    """What one document yields: its own identity, page-level directives and its links.

    `url` is the page's final URL normalized like link targets, `host` and
    `domain` its host and registered domain. `links` holds every link, internal
    ones included, one per (target URL, link type, anchor). `canonical` is the
    first canonical target (Link header, then `<link rel=canonical>` in the
    head). `robots` lists the lower-cased directives that apply to us, from
    meta robots / googlebot and X-Robots-Tag; `nofollow` and `noindex` follow
    from them (`none` sets both). `skipped` counts hrefs that are not links by
    kind (`scheme`, `malformed`, `too_long`, see `linkcrawler.extract.urls`) and a
    document cut at the size limit (`truncated`) and link elements past the page's
    link limit (`over_link_limit`).
    """

    url: str
    host: str
    domain: str
    links: list[Link] = field(default_factory=list)
    canonical: str | None = None
    robots: list[str] = field(default_factory=list)
    nofollow: bool = False
    noindex: bool = False
    skipped: Counter[str] = field(default_factory=Counter)
