"""The one item the backlinks spider yields: a fetched page with the links found on it.

One item per page, not one per link: a link-heavy page has hundreds of links,
and Scrapy's per-item machinery would cost more than the links themselves. The
normalize pipeline turns it into one `pages` document and one `links`
document per link to store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from linkcrawler.extract.links import Link


@dataclass(slots=True)
class PageItem:
    """A fetched (or failed) URL and what it links to.

    `lease` is the frontier lease of the request (see `linkcrawler.frontier.leases`),
    acknowledged once the page is stored. `url` is normalized. `links` holds every link of the page, internal ones
    included; a redirect response has one link, of type `redirect`, to its
    Location (`redirect_to`).
    """

    url: str
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
    redirect_to: str | None = None
    links: list[Link] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    lease: str | None = None
