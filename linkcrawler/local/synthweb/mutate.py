"""Version 2 of a web: what a second crawl finds after the sites changed.

Same hosts, addresses, robots.txt and seeds; on articles a crawler fetches:
some external links added, some removed, some pages gone (404: their links
are lost and links to them become broken), some pages redirecting to
another domain (their links are lost, a redirect link appears), some pages
turned noindex and some declaring a canonical on another domain (their
links stay on the page but are lost for search engines).
`truth.link_changes` reports exactly which links were added, removed and
broken, and why.

Only plain articles holding no link to a special URL (404, redirect, PDF,
...) change, so every URL a crawler fetched in version 1 is still reachable
the same way and `fetchable_pages` is the same set for both versions.
"""

from __future__ import annotations

import random
from dataclasses import replace
from html import escape

from linkcrawler.local.synthweb.model import ModelLink, Page, Web


def mutate(web: Web) -> Web:
    """The version-2 web of a version-1 `web`, deterministic for `web.seed`."""
    if web.version != 1:
        raise ValueError("mutate takes a version-1 web")
    rng = random.Random(web.seed * 1_000_003 + 2)
    pages = dict(web.pages)
    candidates = _candidates(web)
    linked = {link.target for page in web.pages.values() for link in page.links if link.host != page.host}
    scale = max(1, len(candidates) // 40)
    targets = [p for p in candidates if p.url in linked]
    gone = rng.sample(targets, min(len(targets), scale))
    changed = {p.url for p in gone}
    rest = [p for p in candidates if p.url not in changed]
    moved = rng.sample(rest, min(len(rest) // 4, scale))
    changed |= {p.url for p in moved}
    rest = [p for p in rest if p.url not in changed]
    live = [p for p in web.pages.values() if p.role in ("home", "section", "article") and p.url not in changed]
    for page in gone:
        pages[page.url] = replace(page, kind="missing", status=404, links=(), robots_meta="", robots_header="")
    for page in moved:
        destination = _elsewhere(rng, web, page, live)
        link = ModelLink(destination.url, "", destination.url, "redirect")
        pages[page.url] = replace(page, kind="redirect", status=301, links=(link,), robots_meta="", robots_header="")
    for page in rng.sample(rest, min(len(rest), 2 * scale)):
        external = [link for link in page.links if _is_external(web, page, link) and link.position == "content"]
        if external:
            dropped = rng.choice(external)
            pages[page.url] = replace(page, links=tuple(link for link in page.links if link is not dropped))
    for page in rng.sample(rest, min(len(rest), 2 * scale)):
        page = pages[page.url]
        target = _elsewhere(rng, web, page, live)
        site = web.site(target.host)
        link = ModelLink(target.url, site.brand, target.url, markup=escape(site.brand))
        if all((x.target, x.link_type, x.anchor) != (link.target, "text", link.anchor) for x in page.links):
            pages[page.url] = replace(page, links=(*page.links, link))
    untouched = [p for p in rest if pages[p.url] is p and any(_is_external(web, p, link) for link in p.links)]
    unindexed = rng.sample(untouched, min(len(untouched), 2 * scale))
    for page in unindexed[:scale]:
        pages[page.url] = replace(page, robots_meta="noindex")
    for page in unindexed[scale:]:
        target = _elsewhere(rng, web, page, live)
        canonical = ModelLink(target.url, "", target.url, "canonical")
        kept = tuple(link for link in page.links if link.link_type != "canonical")
        pages[page.url] = replace(page, links=(*kept, canonical))
    return replace(web, version=2, pages=pages)


def _candidates(web: Web) -> list[Page]:
    special = {url for url, page in web.pages.items() if page.role == "special"}
    return [
        page for page in web.pages.values()
        if page.role == "article" and web.site(page.host).allows(page.path) and not page.nofollow
        and not any(link.target in special for link in page.links)
    ]  # fmt: skip


def _is_external(web: Web, page: Page, link: ModelLink) -> bool:
    return web.site(link.host).domain != web.site(page.host).domain


def _elsewhere(rng: random.Random, web: Web, page: Page, live: list[Page]) -> Page:
    """A live regular page on another registered domain."""
    domain = web.site(page.host).domain
    return rng.choice([p for p in live if web.site(p.host).domain != domain and web.site(p.host).allows(p.path)])
