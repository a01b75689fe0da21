"""From a crawled page to the documents stored in MongoDB.

Plain functions over `PageItem`, so the normalize pipeline stays thin and the
mapping can be tested without a crawl. The link `_id` is a digest of the
link's identity (source URL, target URL, link type, anchor): the same link
seen again maps to the same document, and the key spreads evenly when
`links` is hash-sharded on `_id`. A changed anchor is a new link (and the old
one is lost), which is how Majestic and Ahrefs report anchor changes.

`last_indexable` is the latest fetch that saw the link on an indexable page
(no noindex, no canonical naming another URL); None while the link was
only ever seen on pages that were not. A page that turns noindex or
canonicalizes elsewhere later loses its links for that reason
(`linkcrawler.store.state`), while a page that always was keeps them.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linkcrawler.extract.directives import is_noindex
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.links import SKIP_OVER_LIMIT, Link
from linkcrawler.extract.urls import split_host


def link_id(source_url: str, target_url: str, link_type: str, anchor: str) -> str:
    """Deterministic 128-bit hex digest of a link's identity."""
    key = "\x1f".join((source_url, target_url, link_type, anchor)).encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


@functools.lru_cache(maxsize=4096)
def subnet_of(ip: str | None) -> str | None:
    """The referring-subnet bucket of an address: IPv4 /24, IPv6 /48 (industry usage).

    Remembered for the last few thousand addresses: a site's pages share one,
    and `ipaddress` took about 1% of a worker's time working it out per page.
    """
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def link_documents(item: PageItem, *, store_internal: bool = False) -> list[dict[str, Any]]:
    """One document per link of the page worth storing.

    External links always; links within one registered domain only with
    `store_internal`. A link whose target domain is unknown (an IP address,
    a host on no public suffix) counts as external unless its host matches
    the source host.
    """
    host, domain = split_host(item.url)
    source = {
        "source_url": item.url,
        "source_host": host,
        "source_domain": domain,
        "source_ip": item.ip,
        "source_subnet": subnet_of(item.ip),
    }
    indexable = item.fetched_at if is_indexable(item) else None
    documents = []
    for link in item.links:
        internal = _same_site(host, domain, link)
        if internal and not store_internal:
            continue
        documents.append(_link_document(item, source, link, internal, indexable))
    return documents


def is_indexable(item: PageItem) -> bool:
    """A page search engines index: no noindex directive, no canonical naming another URL."""
    return not is_noindex(item.robots) and item.canonical in (None, item.url)


def _same_site(source_host: str, source_domain: str, link: Link) -> bool:
    if source_domain and link.target_domain:
        return source_domain == link.target_domain
    return source_host == link.target_host


def _link_document(
    item: PageItem, source: dict[str, Any], link: Link, internal: bool, indexable: datetime | None
) -> dict[str, Any]:
    """`source`: the fields every link of the page shares, worked out once per page."""
    return {
        "_id": link_id(item.url, link.target_url, link.link_type, link.anchor),
        **source,
        "target_url": link.target_url,
        "target_host": link.target_host,
        "target_domain": link.target_domain,
        "anchor": link.anchor,
        "link_type": link.link_type,
        "nofollow": link.nofollow,
        "ugc": link.ugc,
        "sponsored": link.sponsored,
        "follow": link.follow,
        "position": link.position,
        "internal": internal,
        "first_seen": item.fetched_at,
        "last_seen": item.fetched_at,
        "last_indexable": indexable,
        "seen_count": 1,
    }


def page_document(item: PageItem) -> dict[str, Any]:
    host, domain = split_host(item.url)
    return {
        "_id": item.url,
        "url": item.url,
        "host": host,
        "domain": domain,
        "status": item.status,
        "content_type": item.content_type,
        "ip": item.ip,
        "size": item.size,
        "depth": item.depth,
        "error": item.error,
        "redirect_to": item.redirect_to,
        "canonical": item.canonical,
        "robots": item.robots,
        "parsed": item.parsed,
        "outlinks": len(item.links),
        "external_outlinks": sum(not _same_site(host, domain, link) for link in item.links),
        "links_over_limit": item.skipped[SKIP_OVER_LIMIT],
        "fetched_at": item.fetched_at,
    }


@dataclass(slots=True)
class PageRecords:
    """The documents one page contributes: what the normalize pipeline hands the store.

    `leases` are acknowledged by the store once these documents are written.
    """

    links: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    leases: list[str] = field(default_factory=list)


def page_records(item: PageItem, *, store_internal: bool = False) -> PageRecords:
    leases = [item.lease] if item.lease else []
    return PageRecords(link_documents(item, store_internal=store_internal), [page_document(item)], leases)
