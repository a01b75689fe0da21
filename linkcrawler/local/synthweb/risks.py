"""Planted link-risk patterns around one target domain, for the profile's `risk` section and `disavow`.

`generate_web(planted=True)` adds, around the *target* (the open site whose
domain has the fewest inbound external links, so the planted links dominate
its profile):

- a link network: `NETWORK_SITES` new sites on one /24 (`NETWORK_SUBNET`),
  `NETWORK_PAGES` pages each, every page with a footer link to the target's
  home page under the same commercial anchor: a sitewide link, an
  exact-match anchor cluster and a subnet cluster;
- a link farm: one more site whose `/partners.html` carries `FARM_LINKS`
  sponsored external links, one to the target and the others to pages of the
  other sites: link-farm pages and only-sponsored links.

Added after everything else (sitemaps and version 2 included) and without the
generator's random stream, so a planted web is the plain web plus these
sites: the same for both versions, and the plain web (the default) is
unchanged. Planted sites carry the topic `PLANTED_TOPIC`.
"""

from __future__ import annotations

from dataclasses import replace

from linkcrawler.local.synthweb.model import PLANTED_TOPIC, ModelLink, Page, Site, Web

NETWORK_SITES = 6
NETWORK_PAGES = 12
NETWORK_SUBNET = "127.99.1"
FARM_SUBNET = "127.99.2"
FARM_LINKS = 120
EXACT_ANCHOR = "buy cheap gear online"
"""Commercial: not the target's brand, not a URL, not generic (`linkcrawler.profile.anchors`)."""


def plant_risks(web: Web) -> Web:
    """`web` with the link network and the link farm around `risk_target(web)`."""
    target = risk_target(web)
    home = web.url(target.host, "/")
    sites, pages = list(web.sites), dict(web.pages)
    for n in range(1, NETWORK_SITES + 1):
        site = Site(f"top-deals-{n}.net", f"top-deals-{n}.net", f"{NETWORK_SUBNET}.{9 + n}", f"Top Deals {n}",
                    PLANTED_TOPIC)  # fmt: skip
        sites.append(site)
        footer = ModelLink(home, EXACT_ANCHOR, home, position="footer")
        paths = ["/", *(f"/deals/deal-{i}.html" for i in range(1, NETWORK_PAGES))]
        for path in paths:
            internal = (
                [ModelLink(web.url(site.host, p), f"Deal {p[12:-5]}", p) for p in paths[1:]] if path == "/" else []
            )
            pages[web.url(site.host, path)] = _page(web, site, path, (*internal, footer))
    farm = Site("link-directory.info", "link-directory.info", f"{FARM_SUBNET}.10", "Link Directory", PLANTED_TOPIC)
    links = _farm_links(web, target, sites, pages)
    sites.append(farm)
    partners = web.url(farm.host, "/partners.html")
    pages[web.url(farm.host, "/")] = _page(web, farm, "/", (ModelLink(partners, "Our partners", "/partners.html"),))
    pages[partners] = _page(web, farm, "/partners.html", links)
    return replace(web, sites=tuple(sites), pages=dict(sorted(pages.items())), planted=True)


def risk_target(web: Web) -> Site:
    """The open site whose registered domain has the fewest inbound external links from unplanted sites.

    Planted sites and their links are left out, so a planted web names the same target as the plain one.
    """
    plain = [site for site in web.sites if site.topic != PLANTED_TOPIC]
    inbound = dict.fromkeys((site.domain for site in plain), 0)
    for page in web.pages.values():
        source = web.site(page.host)
        if source.topic == PLANTED_TOPIC:
            continue
        for link in page.links:
            domain = web.site(link.host).domain
            inbound[domain] += domain != source.domain
    return min((site for site in plain if site.allows("/")), key=lambda site: inbound[site.domain])


def _farm_links(web: Web, target: Site, all_sites: list[Site], pages: dict[str, Page]) -> tuple[ModelLink, ...]:
    """The target's home page, then other sites' crawlable pages (the network's first) in URL order: rel=sponsored."""
    home = web.url(target.host, "/")
    sites = {site.host: site for site in all_sites}
    others = sorted(
        (url for url, page in pages.items()
         if page.role in ("home", "section", "article", "planted") and sites[page.host].allows(page.path)
         and sites[page.host].domain != target.domain),
        key=lambda url: (sites[pages[url].host].topic != PLANTED_TOPIC, url),
    )  # fmt: skip
    urls = [home, *others[: FARM_LINKS - 1]]
    return tuple(ModelLink(url, f"Partner {n}", url, rel="sponsored") for n, url in enumerate(urls, 1))


def _page(web: Web, site: Site, path: str, links: tuple[ModelLink, ...]) -> Page:
    url = web.url(site.host, path)
    return Page(url, site.host, path, title=f"{site.brand}: {path}", role="home" if path == "/" else "planted",
                links=links, text_seed=len(url))  # fmt: skip
