"""The synthetic web as pure data: sites, pages and every link the generator meant to write.

`generate.generate_web` builds a seeded, reproducible web whose link graph
is known exactly, so a crawl of it can be checked against
`truth.ground_truth` (which reads this model, never the rendered HTML).
The same arguments always give an equal `Web`.

Rules that keep the expected crawl exactly computable:

- every site is `http://host:port/`, its own host on its own 127.x.y.z address
  (never 127.0.0.1, kept for the server's control endpoint);
- regular pages (home, sections, articles) are reachable from the home page
  through plain internal links: nav -> section -> article lists;
- every other URL that is fetched (404 and 500 URLs, redirects, the
  meta-refresh page, PDF, PNG) is the target of at least one plain dofollow
  `<a>` on a regular page without page-level nofollow, so the set of fetched
  pages does not depend on whether a crawler follows nofollow links, iframes,
  canonicals or meta refreshes (`truth.fetchable_pages` checks this);
- robots.txt disallows whole path prefixes for `User-agent: *` only;
- on one page no two links share an identity (target, type, anchor).

Registered domains follow the Public Suffix List including its private
section, as Ahrefs and Majestic count them: `maple.github.io` and
`quartz.github.io` are two registered domains, `shop.delta.com` and
`delta.com` are one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from linkcrawler.extract.links import LINK_TYPES, POSITIONS

PAGE_KINDS = {
    "html": "text/html; charset=utf-8",
    "refresh": "text/html; charset=utf-8",
    "redirect": "text/html; charset=utf-8",
    "missing": "text/html; charset=utf-8",
    "error": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "png": "image/png",
}
"""Every `Page.kind` and the content type it is served with.

html: a regular 200 page; refresh: a 200 page whose meta refresh points
elsewhere; redirect: an HTTP 3xx whose Location is its one link's target;
missing: 404; error: 500; pdf, png: non-HTML resources, never parsed.
"""

PARSED_KINDS = frozenset({"html", "refresh"})
"""Kinds served as 200 HTML, whose links a crawler extracts."""

SUBNET_PREFIX = 77
"""Site addresses are 127.77.{subnet}.{n} (127.78... past 250 /24s): inside 127/8, away from 127.0.0.1."""

PLANTED_TOPIC = "link network"
"""The topic of the sites `risks.plant_risks` adds, which marks them."""

LOGO_PATH = "/static/logo.png"
"""Every site serves a logo; pages use it as `<img src>`, which is not a link."""


@dataclass(frozen=True, slots=True)
class Site:
    """One host of the web. Several sites may share a registered domain (`domain`)."""

    host: str
    domain: str
    ip: str
    brand: str
    topic: str
    disallow: tuple[str, ...] = ()
    has_robots: bool = True
    sitemaps: tuple[str, ...] = ()
    """Absolute URLs of the sitemaps its robots.txt names (`Sitemap:` lines)."""

    @property
    def subnet(self) -> str:
        return self.ip.rsplit(".", 1)[0] + ".0/24"

    def allows(self, path: str) -> bool:
        """What a robots.txt-obeying crawler decides for `path` (prefix rules, `User-agent: *`)."""
        return not any(path.startswith(prefix) for prefix in self.disallow)


@dataclass(frozen=True, slots=True)
class ModelLink:
    """One link as the generator meant it (`target`, `anchor`) and wrote it (`href`, `markup`).

    `target` is the clean absolute URL (no tracking parameters, no fragment,
    lower-case host); `href` may be relative, protocol-relative, carry
    `utm_*` parameters, a fragment or upper-case host letters. `anchor` is the
    text a crawler should record (whitespace collapsed; alt text for image
    links; empty for frame, canonical and redirect links); `markup` is the
    inner HTML of the `<a>` exactly as written; `attrs` extra attributes
    (title, target, class) that must not change the anchor.
    """

    target: str
    anchor: str
    href: str
    link_type: str = "text"
    position: str = "content"
    rel: str = ""
    markup: str = ""
    attrs: str = ""
    host: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.link_type not in LINK_TYPES or self.position not in POSITIONS:
            raise ValueError(f"bad link {self.link_type}/{self.position}")
        object.__setattr__(self, "host", self.target.split("/", 3)[2].rsplit(":", 1)[0])  # http://host:port/...

    @property
    def rel_tokens(self) -> frozenset[str]:
        return frozenset(self.rel.lower().split())

    @property
    def nofollow(self) -> bool:
        return "nofollow" in self.rel_tokens

    @property
    def ugc(self) -> bool:
        return "ugc" in self.rel_tokens

    @property
    def sponsored(self) -> bool:
        return "sponsored" in self.rel_tokens


@dataclass(frozen=True, slots=True)
class Page:
    """One URL the server answers, with everything a renderer and the ground truth need.

    `robots_meta` / `robots_header` hold the content of a `<meta name=robots>`
    or an `X-Robots-Tag` header ("" for none); `text_seed` drives the filler
    text so rendering is deterministic without storing prose.
    """

    url: str
    host: str
    path: str
    kind: str = "html"
    status: int = 200
    title: str = ""
    role: str = "article"
    links: tuple[ModelLink, ...] = ()
    robots_meta: str = ""
    robots_header: str = ""
    text_seed: int = 0

    @property
    def content_type(self) -> str:
        return PAGE_KINDS[self.kind]

    @property
    def robots(self) -> list[str]:
        """The page's robots directives, meta and header together, lower case."""
        return f"{self.robots_meta} {self.robots_header}".lower().replace(",", " ").split()

    @property
    def nofollow(self) -> bool:
        """Page-level nofollow: every link on the page has effective follow=False."""
        return "nofollow" in self.robots

    @property
    def noindex(self) -> bool:
        """Page-level noindex (`none` means noindex and nofollow)."""
        return "noindex" in self.robots or "none" in self.robots


@dataclass(frozen=True, slots=True)
class Sitemap:
    """One sitemap file: a `urlset` of page URLs or a `sitemapindex` of sitemap URLs, gzip-compressed or not."""

    url: str
    kind: str
    locs: tuple[str, ...]
    gzip: bool = False


@dataclass(frozen=True)
class Web:
    """A generated web at one port and version. Build it with `generate_web`."""

    seed: int
    pages_per_site: int
    port: int
    version: int
    sites: tuple[Site, ...]
    pages: dict[str, Page] = field(repr=False)
    uneven: bool = False
    planted: bool = False
    sitemaps: dict[str, Sitemap] = field(default_factory=dict, repr=False)
    """url -> Sitemap: every sitemap file the server answers (see `sitemaps.add_sitemaps`)."""

    @cached_property
    def sites_by_host(self) -> dict[str, Site]:
        """host -> Site, for lookups."""
        return {site.host: site for site in self.sites}

    @property
    def hosts(self) -> dict[str, str]:
        """host -> IP: the crawler's DNS override (`CRAWL_HOSTS`)."""
        return {site.host: site.ip for site in self.sites}

    @property
    def seeds(self) -> list[str]:
        """The home page URL of every site."""
        return [self.url(site.host, "/") for site in self.sites]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def site(self, host: str) -> Site:
        return self.sites_by_host[host]

    def at_port(self, port: int) -> Web:
        """The same web with every URL on `port` (regenerated: the model is deterministic)."""
        from linkcrawler.local.synthweb.generate import generate_web

        if port == self.port:
            return self
        sites = len(self.sites) - self.planted_sites
        return generate_web(self.seed, sites, self.pages_per_site, port, self.version, self.uneven, self.planted)

    @property
    def planted_sites(self) -> int:
        """Sites `risks.plant_risks` added (not counted in the generator's `sites`)."""
        return sum(1 for site in self.sites if site.topic == PLANTED_TOPIC)
