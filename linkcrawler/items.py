"""The one item the backlinks spider yields: a fetched page with the links found on it.

One item per page, not one per link: a link-heavy page has hundreds of links,
and Scrapy's per-item machinery would cost more than the links themselves. The
normalize pipeline turns it into one `pages` document per fetched URL (and per
redirect hop) and one `links` document per link to store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from linkcrawler.links import Link


@dataclass(slots=True)
class RedirectHop:
    """One HTTP redirect the page went through before its final URL."""

    url: str
    status: int
    location: str
    ip: str | None = None


@dataclass(slots=True)
class PageItem:
    """A fetched (or failed) URL and what it links to.

    `url` is the final URL, normalized; `requested_url` the one that was
    scheduled. `links` holds every link of the page, internal ones included;
    `redirect_links` the redirect hops' links, each with its source URL.
    """

    url: str
    requested_url: str
    fetched_at: datetime
    status: int | None = None
    content_type: str | None = None
    ip: str | None = None
    size: int = 0
    depth: int = 0
    error: str | None = None
    canonical: str | None = None
    robots: list[str] = field(default_factory=list)
    parsed: bool = False
    redirects: list[RedirectHop] = field(default_factory=list)
    redirect_links: list[tuple[str, Link]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
