"""Sitemaps on three sites of a web, and on each a page only its sitemap names.

A link-following crawl never finds an orphan page; `linkcrawler seed
--sitemaps` must. The three sites cover the ways a crawler learns of a
sitemap:

- the *index* site's robots.txt names `/sitemap_index.xml`, a sitemap index
  of a plain sitemap (home and sections) and a gzip one (the other pages);
  it is a site whose robots.txt disallows `/private/` when there is one, so
  its sitemap lists URLs a crawler must not queue;
- the *named* site's robots.txt names `/feeds/site-map.xml`, a path nobody
  would guess;
- the *fallback* site names none (it has no robots.txt when such a site
  exists) and answers `/sitemap.xml`.

Built from the finished model without drawing from the generator's random
stream, so every other page and link, and the ground truth, are the same with
or without sitemaps. Orphan pages link only to their own home page: a crawl
that fetches them stores no more external links than `truth.ground_truth`.
"""

from __future__ import annotations

from dataclasses import replace

from linkcrawler.local.synthweb.model import ModelLink, Page, Site, Sitemap, Web

ORPHAN_PATH = "/unlinked/orphan.html"
REGULAR_ROLES = ("home", "section", "article", "private")


def add_sitemaps(web: Web) -> Web:
    """`web` with sitemaps and an orphan page on its index, named and fallback sites."""
    index, named, fallback = sitemap_sites(web.sites)
    pages = dict(web.pages)
    sitemaps: dict[str, Sitemap] = {}
    for site in (index, named, fallback):
        orphan = _orphan(web, site)
        pages[orphan.url] = orphan
    robots_named = ((index, "/sitemap_index.xml"), (named, "/feeds/site-map.xml"))
    for site, path in (*robots_named, (fallback, "/sitemap.xml")):
        locs = _site_urls(pages, site)
        if site is index:
            head = tuple(url for url in locs if pages[url].role in ("home", "section"))
            parts = (
                Sitemap(web.url(site.host, "/sitemaps/pages.xml"), "urlset", head),
                Sitemap(web.url(site.host, "/sitemaps/articles.xml.gz"), "urlset",
                        tuple(url for url in locs if url not in head), gzip=True),
            )  # fmt: skip
            sitemaps.update((part.url, part) for part in parts)
            locs, kind = tuple(part.url for part in parts), "sitemapindex"
        else:
            kind = "urlset"
        sitemap = Sitemap(web.url(site.host, path), kind, locs)
        sitemaps[sitemap.url] = sitemap
    named_in_robots = {site.host: (web.url(site.host, path),) for site, path in robots_named}
    sites = tuple(replace(s, sitemaps=named_in_robots.get(s.host, ())) for s in web.sites)
    return replace(web, sites=sites, pages=dict(sorted(pages.items())), sitemaps=sitemaps)


def sitemap_sites(sites: tuple[Site, ...]) -> tuple[Site, Site, Site]:
    """(index, named, fallback): open sites with robots.txt, the index one disallowing `/private/` if any does."""
    open_sites = [site for site in sites if site.allows("/")]
    with_robots = sorted((s for s in open_sites if s.has_robots), key=lambda s: "/private/" not in s.disallow)
    index, named = with_robots[:2]
    fallback = next((s for s in open_sites if not s.has_robots), with_robots[2])
    return index, named, fallback


def _orphan(web: Web, site: Site) -> Page:
    home = web.url(site.host, "/")
    url = web.url(site.host, ORPHAN_PATH)
    link = ModelLink(home, "Home", "/", position="nav")
    return Page(url, site.host, ORPHAN_PATH, title=f"{site.brand}: a page no link reaches", role="orphan",
                links=(link,), text_seed=len(url))  # fmt: skip


def _site_urls(pages: dict[str, Page], site: Site) -> tuple[str, ...]:
    return tuple(
        url for url, page in sorted(pages.items()) if page.host == site.host and page.role in (*REGULAR_ROLES, "orphan")
    )
