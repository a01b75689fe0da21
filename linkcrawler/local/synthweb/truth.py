"""Ground truth: what a correct crawl of a synthetic web stores, computed from the model.

Written from what the generator meant to link (`ModelLink.target`,
`anchor`, `rel`, `position`), never by parsing the rendered HTML, so it is
an independent check of extraction, normalization and storage. URLs are in
the form the crawler stores: w3lib `canonicalize_url` without fragment of
the clean absolute URL (tracking parameters never reach the model's
targets; hosts are lower case; the non-default port stays).

Conventions a crawler is checked against (decisions, written down here):

- a link is external when source and target registered domains differ
  (Public Suffix List with its private section: `a.github.io` and
  `b.github.io` differ; `shop.delta.com` and `delta.com` do not);
- anchor: whitespace-collapsed text of the `<a>`, case kept; alt text for
  image links; "" for canonical, frame and redirect links;
- position: the page region holding the element; "content" for links with
  no region (`<link rel=canonical>`, meta refresh, HTTP redirects);
- follow: false when rel has nofollow, ugc or sponsored, or the page is
  nofollow by meta robots or X-Robots-Tag; redirects always follow;
- an HTTP redirect that crosses registered domains is a link of type
  "redirect" from the redirecting URL (its host, domain and IP) to the
  Location;
- a link whose target is never fetched (robots-disallowed) is still a link;
  it is broken only when its target was fetched and failed (4xx/5xx);
- a page is indexable unless its robots directives say noindex (or none) or
  its first canonical link names another URL; a link on a page that was
  indexable and no longer is counts as lost, though it is still on the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url

from linkcrawler.extract.links import LINK_TYPES
from linkcrawler.local.synthweb.model import PARSED_KINDS, ModelLink, Page, Web

FIELDS = (
    "source_url", "source_host", "source_domain", "source_ip", "target_url", "target_host",
    "target_domain", "anchor", "link_type", "nofollow", "ugc", "sponsored", "follow", "position",
)  # fmt: skip


def identity(link: dict[str, Any]) -> tuple[str, str, str, str]:
    """A link's identity: one stored record per (source_url, target_url, link_type, anchor)."""
    return (link["source_url"], link["target_url"], link["link_type"], link["anchor"])


def fetchable_pages(web: Web, *, follow_nofollow: bool = True, link_types: Iterable[str] = LINK_TYPES) -> set[str]:
    """URLs a robots.txt-obeying crawler starting at `web.seeds` fetches, with unlimited depth.

    Included: every URL it requests that robots.txt allows: 200 HTML pages,
    redirecting URLs and their Location targets, 404 and 500 URLs, non-HTML
    resources (PDF, PNG) that are linked. Excluded: robots.txt files
    themselves, robots-disallowed URLs (never requested, though links to
    them exist), and URLs only used as `<img src>` (not links).

    `follow_nofollow` and `link_types` describe a crawler's policy (does it
    follow nofollow links, links on nofollow pages, iframes, canonicals,
    meta refreshes?). The generator guarantees the result is the same set
    for every policy; the keywords exist so tests can prove it.
    """
    followed = frozenset(link_types)
    seen: set[str] = set()
    queue = [url for url in web.seeds if _allowed(web, url)]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        page = web.pages.get(url)
        for link in page.links if page is not None else ():
            http_redirect = page.kind == "redirect"
            if not http_redirect and (page.kind not in PARSED_KINDS or link.link_type not in followed):
                continue
            if not http_redirect and not follow_nofollow and (page.nofollow or _rel_nofollow(link)):
                continue
            if link.target not in seen and _allowed(web, link.target):
                queue.append(link.target)
    return seen


def ground_truth(web: Web) -> list[dict[str, Any]]:
    """Every external link on every page `fetchable_pages` yields, sorted by identity.

    One dict per link identity with the fields in `FIELDS` (the `links`
    collection's link fields, without crawl dates).
    """
    records: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    canonical = _Canonical()
    for url in fetchable_pages(web):
        page = web.pages[url]
        if page.status != 200 and page.kind != "redirect":
            continue
        for link in page.links:
            record = _record(web, page, link, canonical)
            if record is None:
                continue
            key = identity(record)
            if records.setdefault(key, record) != record:
                raise AssertionError(f"model bug: two links with identity {key} disagree")
    return [records[key] for key in sorted(records)]


def sitemap_seeds(web: Web) -> list[str]:
    """What `linkcrawler seed --sitemaps` queues for every site of `web`: sitemap URLs that robots.txt allows.

    Each site's sitemaps are the ones its robots.txt names, else its
    `/sitemap.xml` if it has one; indexes are followed.
    """
    found: set[str] = set()
    for site in web.sites:
        pending = list(site.sitemaps if site.has_robots and site.sitemaps else [web.url(site.host, "/sitemap.xml")])
        while pending:
            sitemap = web.sitemaps.get(pending.pop())
            if sitemap is not None and sitemap.kind == "sitemapindex":
                pending += sitemap.locs
            elif sitemap is not None:
                found.update(url for url in sitemap.locs if _allowed(web, url))
    return sorted(found)


def orphan_pages(web: Web) -> list[str]:
    """Pages no link reaches, named only in sitemaps: a link-following crawl never fetches them."""
    return sorted(url for url, page in web.pages.items() if page.role == "orphan")


def status_of(web: Web, url: str) -> int | None:
    """The HTTP status a fetch of `url` gets, None when robots.txt forbids fetching it."""
    if not _allowed(web, url):
        return None
    page = web.pages.get(canonicalize_url(url, keep_fragments=False))
    return page.status if page is not None else 404


def broken_links(web: Web) -> list[dict[str, Any]]:
    """Ground-truth links whose target was fetched and failed (4xx/5xx)."""
    return [link for link in ground_truth(web) if (status_of(web, link["target_url"]) or 0) >= 400]


def link_changes(old: Web, new: Web) -> dict[str, list[dict[str, Any]]]:
    """What a crawl of `new` after a crawl of `old` should report, from the two ground truths.

    added: links in new only. removed: links in old only, and links in both
    whose page was indexable and is not any more, each with a `reason`:
    "source_failed" (the page now answers 4xx/5xx), "source_redirected" (it
    now redirects away), "source_noindex" (it is now noindex),
    "source_canonicalized" (it now names another canonical URL) or
    "link_removed" (the page is fine, the link is gone). broken: links in
    both whose target was fine and now fails.
    """
    before = {identity(link): link for link in ground_truth(old)}
    after = {identity(link): link for link in ground_truth(new)}
    removed = []
    for key in sorted(before.keys()):
        reason = _lost_reason(old, new, key[0])
        if key not in after or reason in ("source_noindex", "source_canonicalized"):
            removed.append({**before[key], "reason": reason})
    broken = [
        after[key] for key in sorted(before.keys() & after.keys())
        if (status_of(new, key[1]) or 0) >= 400 > (status_of(old, key[1]) or 0)
    ]  # fmt: skip
    return {"added": [after[key] for key in sorted(after.keys() - before.keys())], "removed": removed, "broken": broken}


def indexable(web: Web, url: str) -> bool:
    """Whether a search engine indexes the page: no noindex (or none) directive, no canonical naming another URL."""
    page = web.pages[url]
    canonicals = [link.target for link in page.links if link.link_type == "canonical"]
    elsewhere = bool(canonicals) and canonicalize_url(canonicals[0]) != canonicalize_url(url)
    return not page.noindex and not elsewhere


def _lost_reason(old: Web, new: Web, source_url: str) -> str:
    """Why a link of `source_url` would be lost in `new`: the first reason that applies."""
    status = status_of(new, source_url) or 200
    if status >= 400:
        return "source_failed"
    if status >= 300:
        return "source_redirected"
    if indexable(old, source_url) and not indexable(new, source_url):
        return "source_noindex" if new.pages[source_url].noindex else "source_canonicalized"
    return "link_removed"


class _Canonical(dict[str, str]):
    """canonicalize_url with a cache: the same targets recur on every page of a site."""

    def __missing__(self, url: str) -> str:
        self[url] = value = canonicalize_url(url, keep_fragments=False)
        return value


def _record(web: Web, page: Page, link: ModelLink, canonical: _Canonical) -> dict[str, Any] | None:
    source, target = web.site(page.host), web.site(link.host)
    if source.domain == target.domain:
        return None
    follow = not (link.nofollow or link.ugc or link.sponsored or page.nofollow)
    return {
        "source_url": canonical[page.url],
        "source_host": source.host,
        "source_domain": source.domain,
        "source_ip": source.ip,
        "target_url": canonical[link.target],
        "target_host": target.host,
        "target_domain": target.domain,
        "anchor": link.anchor,
        "link_type": link.link_type,
        "nofollow": link.nofollow,
        "ugc": link.ugc,
        "sponsored": link.sponsored,
        "follow": follow,
        "position": link.position,
    }


def _allowed(web: Web, url: str) -> bool:
    parts = urlsplit(url)
    site = web.sites_by_host.get(parts.hostname or "")
    return site is not None and site.allows(parts.path or "/")


def _rel_nofollow(link: ModelLink) -> bool:
    return link.nofollow or link.ugc or link.sponsored
