"""The generator: a seeded `Web` built in a fixed order from one `random.Random(seed)`.

The builder works on mutable drafts and freezes them into `Page`s at the end.
Steps run in a fixed order and never iterate over sets of strings, so the
same seed gives an equal web in every process (hash randomization included).
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass, field
from html import escape
from itertools import accumulate

from linkcrawler.local.synthweb.model import LOGO_PATH, SUBNET_PREFIX, ModelLink, Page, Site, Web
from linkcrawler.local.synthweb.risks import plant_risks
from linkcrawler.local.synthweb.sitemaps import add_sitemaps

PUBLIC_SUFFIXES = ("com",) * 10 + ("org",) * 3 + ("net",) * 3 + ("co.uk",) * 3 + (
    "de", "de", "io", "io", "com.au", "fr", "nl",
)  # fmt: skip
PRIVATE_SUFFIXES = ("github.io", "blogspot.com")
WORDS = (
    "alpha", "bluefin", "cedar", "delta", "ember", "fjord", "granite", "harbor", "indigo",
    "juniper", "kestrel", "lumen", "maple", "nimbus", "orchid", "pebble", "quartz", "raven",
    "sable", "tundra", "umber", "violet", "willow", "zephyr", "copper", "meadow", "summit",
    "beacon", "canyon", "falcon", "glacier", "lantern", "mosaic", "prairie", "thistle",
    "vantage", "bramble", "cobalt", "dune", "marble",
)  # fmt: skip
KINDS = ("news", "shop", "blog", "reviews", "labs", "guide", "daily", "journal", "kitchen", "press")
SECTIONS = ("news", "reviews", "guides", "blog", "products", "tips")
TOPICS = {
    "coffee": ("espresso machines", "grinders", "pour-over", "cold brew", "latte art", "roasting"),
    "travel": ("night trains", "city breaks", "hostels", "packing lists", "road trips", "ferries"),
    "cycling": ("gravel bikes", "bike fitting", "tubeless tyres", "commuting", "saddles", "touring"),
    "gardening": ("tomatoes", "composting", "raised beds", "pruning", "seed saving", "houseplants"),
    "photography": ("prime lenses", "film cameras", "street photography", "tripods", "lighting"),
    "cooking": ("sourdough", "crème brûlée", "knife skills", "fermentation", "spices", "curries"),
    "software": ("web scraping", "databases", "code review", "caching", "packaging", "testing"),
    "running": ("trail running", "marathon training", "running shoes", "intervals", "recovery"),
}
TITLES = (
    "The best {x} of 2024", "A beginner's guide to {x}", "{X}: what we learned",
    "How to choose {x}", "What nobody tells you about {x}", "{X} compared",
    "Tips & tricks for {x}", "Ten mistakes with {x}", "Our favourite {x}", "{X} on a budget",
)  # fmt: skip
GENERIC_ANCHORS = ("click here", "read more", "here", "this article", "source", "website")
RELS = ("", "nofollow", "ugc", "sponsored", "nofollow noopener", "sponsored nofollow",
        "noopener noreferrer", "NoFollow")  # fmt: skip
REL_WEIGHTS = (70, 8, 3, 3, 4, 2, 8, 1)
ANCHOR_STYLES = ("brand", "title", "naked", "generic", "nested", "padded", "image", "empty")
ANCHOR_WEIGHTS = (25, 25, 8, 12, 8, 6, 12, 4)
EXTERNAL_COUNTS = (0, 1, 1, 2, 2, 3, 3, 4, 5, 8)
UNEVEN_SIZES = (3.0, 2.0, 1.5, 1.0, 1.0, 0.75, 0.5, 0.5, 0.25, 0.25)
"""With `uneven=True`, site k has `pages_per_site * UNEVEN_SIZES[k % 10]` regular pages (at least 4).

A few big sites and many small ones (mean 1.075 x `pages_per_site`): a crawl
bound by per-site politeness then waits on its biggest sites, as real crawls do.
"""
TRACKING = ("utm_source={src}&utm_medium=referral", "utm_campaign=spring&utm_source={src}",
            "gclid=Cj0KCQ{src}", "fbclid=IwAR{src}")  # fmt: skip


def generate_web(
    seed: int = 1,
    sites: int = 30,
    pages_per_site: int = 20,
    port: int = 8080,
    version: int = 1,
    uneven: bool = False,
    planted: bool = False,
) -> Web:
    """A reproducible web of `sites` hosts with `pages_per_site` regular pages each (`uneven`: see `UNEVEN_SIZES`).

        Regular pages are the home page, section pages, articles and, on sites
        whose robots.txt disallows `/private/`, pages there; special URLs (404,
        500, redirects, a meta-refresh page, a PDF, PNGs) come on top, and three
        sites serve sitemaps naming an orphan page (`sitemaps`). `version=2`
        is the same web after `mutate`: same hosts, addresses and seeds, with
        links added, removed and broken. `planted` adds a link network and a link
    farm around one domain (`risks`). `port` is baked into every URL;
        `Web.at_port` regenerates the same web on another port.
    """
    if sites < 3 or pages_per_site < 4:
        raise ValueError("a synthetic web needs at least 3 sites of at least 4 pages each")
    if not 0 < port < 65536 or version not in (1, 2):
        raise ValueError(f"bad port {port} or version {version} (1 or 2)")
    web = add_sitemaps(_Builder(random.Random(seed), sites, pages_per_site, port, uneven).build(seed))
    if version == 2:
        from linkcrawler.local.synthweb.mutate import mutate

        web = mutate(web)
    return plant_risks(web) if planted else web


@dataclass
class _Draft:
    """A page under construction: links are appended, de-duplicated by identity."""

    url: str
    host: str
    path: str
    role: str
    title: str = ""
    kind: str = "html"
    status: int = 200
    links: list[ModelLink] = field(default_factory=list)
    robots_meta: str = ""
    robots_header: str = ""
    identities: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, link: ModelLink) -> bool:
        identity = (link.target, link.link_type, link.anchor)
        if identity in self.identities:
            return False
        self.identities.add(identity)
        self.links.append(link)
        return True

    @property
    def nofollow(self) -> bool:
        return bool(self.robots_meta or self.robots_header)


class _Builder:
    """Builds one web; `build` calls the steps in a fixed order."""

    def __init__(self, rng: random.Random, site_count: int, pages_per_site: int, port: int, uneven: bool) -> None:
        self.rng = rng
        self.site_count = site_count
        self.pages_per_site = pages_per_site
        self.uneven = uneven
        self.port = port
        self.sites: list[Site] = []
        self.site_of: dict[str, Site] = {}
        self.drafts: dict[str, _Draft] = {}
        self.by_host: dict[str, list[_Draft]] = {}
        self.weights: list[float] = []
        self.platform: Site
        self.targets: dict[str, tuple[list[Site], list[float]]] = {}
        self.roles: dict[tuple[str, str], list[_Draft]] = {}
        self.plain: list[_Draft] = []
        self.sitewide_roles: dict[str, set[str]] = {}

    def build(self, seed: int) -> Web:
        self.make_sites()
        for site in self.sites:
            self.make_pages(site)
        self.set_page_robots()
        for site in self.sites:
            self.add_sitewide_links(site)
        for draft in self.regular():
            self.add_content_links(draft)
        self.add_canonicals_and_frames()
        self.add_special_pages()
        pages = {url: self.freeze(draft, seed) for url, draft in sorted(self.drafts.items())}
        return Web(seed, self.pages_per_site, self.port, 1, tuple(self.sites), pages, self.uneven)

    # sites and pages --------------------------------------------------------------

    def make_sites(self) -> None:
        rng, count = self.rng, self.site_count
        private = 2 if count >= 8 else 0
        shared = max(1, count // 12) if count >= 6 else 0
        labels = self.labels(count - shared)
        plan: list[tuple[str, str, str]] = []
        for i in range(private):
            label = labels.pop()
            plan.append((f"{label}.{PRIVATE_SUFFIXES[i % 2]}",) * 2 + (label,))
        for _ in range(shared):
            label = labels.pop()
            domain = f"{label}.{rng.choice(PUBLIC_SUFFIXES)}"
            plan += [(domain, domain, label), (f"{rng.choice(('shop', 'blog'))}.{domain}", domain, label)]
        for label in labels:
            domain = f"{label}.{rng.choice(PUBLIC_SUFFIXES)}"
            plan.append((rng.choices(("", "www.", "blog."), weights=(5, 4, 1))[0] + domain, domain, label))
        ordinary = rng.sample(range(private + 2 * shared, count), count - private - 2 * shared)
        closed = ordinary[:1] if count >= 12 else []
        no_robots = ordinary[1 : 1 + count // 10]
        private_dirs = ordinary[1 + count // 10 : 1 + count // 10 + max(1, count // 4)]
        for i, ((host, domain, label), ip) in enumerate(zip(plan, self.addresses(count), strict=True)):
            disallow = ("/",) if i in closed else ("/private/",) if i in private_dirs else ()
            site = Site(host, domain, ip, _brand(label), rng.choice(sorted(TOPICS)), disallow, i not in no_robots)
            self.sites.append(site)
            self.site_of[host] = site
            self.by_host[host] = []
            self.weights.append(rng.paretovariate(1.3))
        self.platform = self.sites[self.weights.index(max(self.weights))]
        order = rng.sample(self.sites, count)
        asides, footers = max(1, count // 3), max(1, count // 4)
        self.sitewide_roles = {site.host: set() for site in self.sites}
        self.sitewide_roles[order[0].host].add("header")
        self.sitewide_roles[order[1].host].add("nav")
        for site in order[2 : 2 + asides]:
            self.sitewide_roles[site.host].add("aside")
        for site in order[-footers:]:
            self.sitewide_roles[site.host].add("footer")

    def labels(self, count: int) -> list[str]:
        labels: list[str] = []
        while len(labels) < count:
            word, kind = self.rng.choice(WORDS), self.rng.choice(KINDS)
            label = self.rng.choice((f"{word}-{kind}", f"{word}{kind}", word))
            if label not in labels:
                labels.append(label)
        return labels

    def addresses(self, count: int) -> list[str]:
        """One address per site, 1-4 sites per /24 (the first /24 holds two).

        /24s are numbered from 127.77.1.0 on, 250 per second octet.
        """
        ips, subnet, used, capacity = [], 0, 0, 2
        for _ in range(count):
            if used == capacity:
                subnet, used, capacity = subnet + 1, 0, self.rng.choice((1, 1, 2, 3, 4))
            ips.append(f"127.{SUBNET_PREFIX + subnet // 250}.{subnet % 250 + 1}.{10 + used}")
            used += 1
        return self.rng.sample(ips, count)

    def make_pages(self, site: Site) -> None:
        rng, size = self.rng, self.pages_per_site
        if self.uneven:
            size = max(4, round(size * UNEVEN_SIZES[self.sites.index(site) % len(UNEVEN_SIZES)]))
        sections = rng.sample(SECTIONS, 1 if size < 6 else 2 if size < 12 else 3 if size < 40 else 4)
        private = 0 if "/private/" not in site.disallow else 1 if size < 10 else 2
        topic = site.topic
        self.draft(site.host, "/", "home", f"{site.brand}: {topic} news, reviews and guides")
        for name in sections:
            self.draft(site.host, f"/{name}/", "section", f"{name.capitalize()} | {site.brand}")
        extension = rng.choice((".html", ""))
        for i in range(size - 1 - len(sections) - private):
            title = _title(rng, topic)
            path = f"/{sections[i % len(sections)]}/{_slug(title)}"
            while path + extension in self.drafts_paths(site.host):
                path += "-2"
            self.draft(site.host, path + extension, "article", title)
        for i in range(private):
            self.draft(site.host, f"/private/draft-{i + 1}.html", "private", f"Draft: {_title(rng, topic)}")
        self.draft(site.host, LOGO_PATH, "resource").kind = "png"

    def drafts_paths(self, host: str) -> list[str]:
        return [d.path for d in self.by_host[host]]

    def draft(self, host: str, path: str, role: str, title: str = "") -> _Draft:
        draft = _Draft(self.url(host, path), host, path, role, title)
        self.drafts[draft.url] = draft
        self.by_host[host].append(draft)
        return draft

    def set_page_robots(self) -> None:
        """A few articles nofollow every link: some by meta robots, some by X-Robots-Tag.

        The others are the plain articles (`self.plain`): fetched, no page-level
        nofollow, where primary links go.
        """
        articles = [d for d in self.drafts.values() if d.role == "article" and self.site_of[d.host].allows(d.path)]
        metas, headers = max(2, len(articles) // 25), max(1, len(articles) // 30)
        chosen = self.rng.sample(articles, min(len(articles) // 3, metas + headers))
        for draft in chosen[:metas]:
            draft.robots_meta = self.rng.choice(("nofollow", "index, nofollow"))
        for draft in chosen[metas:]:
            draft.robots_header = "nofollow"
        self.plain = [d for d in articles if not d.nofollow]

    # links -------------------------------------------------------------------------

    def add_sitewide_links(self, site: Site) -> None:
        """Header, nav, aside and footer: the same links on every regular page of a site."""
        rng = self.rng
        home = self.url(site.host, "/")
        links = [
            ModelLink(home, f"{site.brand} logo", "/", "image", "header",
                      markup=f'<img src="{LOGO_PATH}" alt="{escape(site.brand)} logo" width="120" height="40">'),
            ModelLink(home, "Home", "/", position="nav"),
        ]  # fmt: skip
        for draft in self.by_host[site.host]:
            if draft.role == "section":
                links.append(ModelLink(draft.url, draft.path.strip("/").capitalize(), draft.path, position="nav"))
        for sister in self.sites:
            if sister.domain == site.domain and sister.host != site.host:
                anchor = "Shop" if sister.host.startswith("shop.") else "Main site"
                links.append(ModelLink(self.url(sister.host, "/"), anchor, self.url(sister.host, "/"), position="nav"))
        roles = self.sitewide_roles[site.host]
        if "header" in roles:
            partner = self.pick(site, ("home",))
            links.append(self.external(site, "header", rel="sponsored", style="image", target=partner))
        if "nav" in roles:
            links.append(self.external(site, "nav", rel="", style="brand", target=self.pick(site, ("home",))))
        if "aside" in roles:
            for _ in range(rng.randint(2, 4)):
                rel = rng.choice(("", "", "nofollow"))
                links.append(self.external(site, "aside", rel=rel, style="brand", target=self.pick(site, ("home",))))
        platform = self.platform
        if "footer" in roles and platform.domain != site.domain:
            markup = rng.choice(("Powered by {}", "Powered by <strong>{}</strong>")).format(escape(platform.brand))
            powered = self.url(platform.host, "/")
            links.append(ModelLink(powered, f"Powered by {platform.brand}", powered, position="footer", markup=markup))
        for draft in self.by_host[site.host]:
            if draft.role in ("home", "section", "article", "private"):
                for link in links:
                    draft.add(link)
                draft.add(ModelLink(draft.url, "Back to top", "#top", position="footer"))

    def add_content_links(self, draft: _Draft) -> None:
        rng = self.rng
        site = self.site_of[draft.host]
        siblings = [d for d in self.by_host[draft.host] if d.role == "article" and d is not draft]
        if draft.role == "home":
            internal = siblings[:5] + [d for d in self.by_host[draft.host] if d.role == "private"]
            externals = rng.randint(0, 2)
        elif draft.role == "section":
            internal = [d for d in siblings if d.path.startswith(draft.path)]
            externals = rng.randint(0, 1)
        else:
            internal = rng.sample(siblings, min(len(siblings), rng.randint(1, 2)))
            externals = rng.choice(EXTERNAL_COUNTS)
        for target in internal:
            draft.add(ModelLink(target.url, target.title, _relative(rng, draft.path, target.path)))
        for _ in range(externals):
            draft.add(self.external(site, "content"))
        if draft.role == "article" and rng.random() < 0.25:
            for _ in range(rng.randint(1, 2)):
                draft.add(self.external(site, "content", rel=rng.choice(("ugc", "ugc nofollow"))))
        if draft.role == "article" and rng.random() < 0.1:
            draft.add(self.external(site, "content", rel=rng.choice(("sponsored", "sponsored nofollow"))))

    def add_canonicals_and_frames(self) -> None:
        """Self canonicals on most pages, cross-domain ones and iframes on a few articles."""
        rng = self.rng
        articles = self.plain
        count = max(1, len(articles) // 30)
        picked = rng.sample(articles, min(len(articles), 2 * count))
        syndicated = {id(d) for d in picked[:count]}
        for draft in self.regular():
            site = self.site_of[draft.host]
            if id(draft) in syndicated:
                original = self.pick(site, ("article",))
                draft.add(ModelLink(original.url, "", original.url, "canonical"))
            elif rng.random() < 0.9:
                draft.add(ModelLink(draft.url, "", draft.url, "canonical"))
        for draft in picked[count:]:
            embedded = self.pick(self.site_of[draft.host], ("home", "article"))
            draft.add(ModelLink(embedded.url, "", embedded.url, "frame"))
        draft = picked[-1]
        draft.add(ModelLink(draft.url.rsplit("/", 1)[0] + "/", "", "./", "frame"))

    def add_special_pages(self) -> None:
        """404s, a 500, redirects, a meta refresh, a PDF, a PNG and links to robots-disallowed pages.

        Each special URL gets a primary link: a plain dofollow `<a>` on a
        plain article (see the module docstring), plus a few links in any style.
        """
        rng = self.rng
        open_sites = [s for s in self.sites if s.allows("/")]
        for i in range(max(2, self.site_count // 6)):
            site = rng.choice(open_sites)
            missing = self.special(site, f"/archive/removed-post-{i + 1}.html", "missing", 404)
            self.primary(missing, "Removed post", external=True)
            for _ in range(rng.randint(0, 2)):
                self.extra(missing)
        self.primary(missing, "An older post", external=False)
        self.primary(self.special(rng.choice(open_sites), "/api/widget", "error", 500), "Live widget", external=True)
        shop = rng.choice(open_sites)
        outlet = rng.choice([s for s in open_sites if s.domain != shop.domain])
        go_targets = [self.pick(shop, ("article",)), self.pick(shop, ("home",))]
        for n, (status, final) in enumerate(zip((301, 302), go_targets, strict=True), start=1):
            self.primary(self.redirect(shop, f"/go/{n}", status, final.url), f"Deal {n}", external=False)
        out = self.redirect(outlet, "/out/partner", 301, self.pick_not(outlet, shop).url)
        hop = self.redirect(shop, "/go/3", 301, out.url)
        self.primary(hop, "Partner offer", external=False)
        self.extra(self.drafts[self.url(shop.host, "/go/1")])
        mover = rng.choice(open_sites)
        moved = self.special(mover, "/moved.html", "refresh", 200)
        new_home = self.pick(mover, ("article",))
        moved.add(ModelLink(new_home.url, "", new_home.url, "redirect"))
        moved.add(ModelLink(new_home.url, "the new location", new_home.url))
        self.primary(moved, "Our old page", external=False)
        for path, kind, anchor in (("/files/annual-report.pdf", "pdf", "Annual report (PDF)"),
                                   ("/media/chart.png", "png", "Full-size chart")):  # fmt: skip
            resource = self.special(rng.choice(open_sites), path, kind, 200)
            self.primary(resource, anchor, external=True)
            self.extra(resource)
        for private in [d for d in self.drafts.values() if d.role == "private"][:2]:
            self.primary(private, private.title, external=True)

    def special(self, site: Site, path: str, kind: str, status: int) -> _Draft:
        draft = self.draft(site.host, path, "special")
        draft.kind, draft.status = kind, status
        return draft

    def redirect(self, site: Site, path: str, status: int, location: str) -> _Draft:
        draft = self.special(site, path, "redirect", status)
        draft.add(ModelLink(location, "", location, "redirect"))
        return draft

    def primary(self, target: _Draft, anchor: str, external: bool) -> None:
        """A plain dofollow text link to `target` from a plain article (another domain's if `external`)."""
        domain = self.site_of[target.host].domain
        sources = [d for d in self.plain if (self.site_of[d.host].domain != domain) == external]
        source = self.rng.choice(sources or self.plain)
        same_host = source.host == target.host
        href = _relative(self.rng, source.path, target.path) if same_host else target.url
        if not source.add(ModelLink(target.url, anchor, href)):
            raise AssertionError(f"primary link to {target.url} collides on {source.url}")

    def extra(self, target: _Draft) -> None:
        """One more link to `target`, in any style, from a regular page of another domain."""
        domain = self.site_of[target.host].domain
        source = self.rng.choice([d for d in self.regular() if self.site_of[d.host].domain != domain])
        source.add(self.external(self.site_of[source.host], "content", target=target))

    def external(self, source: Site, position: str, rel: str | None = None, style: str | None = None,
                 target: _Draft | None = None) -> ModelLink:  # fmt: skip
        """A link from `source` to a page of another registered domain, in a random style."""
        rng = self.rng
        target = target or self.pick(source, ("home", "section", "article", "article", "article"))
        site = self.site_of[target.host]
        style = style or rng.choices(ANCHOR_STYLES, ANCHOR_WEIGHTS)[0]
        anchor, markup, link_type = _anchor(rng, style, site, target.title or site.brand)
        rel = rng.choices(RELS, REL_WEIGHTS)[0] if rel is None else rel
        attrs = rng.choices(("", ' target="_blank"', f' title="{escape(site.brand)}"', ' class="ext"'), (6, 2, 1, 1))[0]
        href = _external_href(rng, target.url, site.host, self.port, source.host.split(".")[0])
        return ModelLink(target.url, anchor, href, link_type, position, rel, markup, attrs)

    def pick(self, source: Site, roles: tuple[str, ...]) -> _Draft:
        """A regular page on another registered domain: popular sites more often."""
        if source.domain not in self.targets:
            pairs = [(s, w) for s, w in zip(self.sites, self.weights, strict=True) if s.domain != source.domain]
            self.targets[source.domain] = ([s for s, _ in pairs], list(accumulate(w for _, w in pairs)))
        sites, cumulative = self.targets[source.domain]
        site = self.rng.choices(sites, cum_weights=cumulative)[0]
        role = self.rng.choice(roles)
        if (site.host, role) not in self.roles:
            self.roles[(site.host, role)] = [d for d in self.by_host[site.host] if d.role == role]
        pages = self.roles[(site.host, role)]
        return self.rng.choice(pages) if pages else self.by_host[site.host][0]

    def pick_not(self, source: Site, other: Site) -> _Draft:
        while True:
            page = self.pick(source, ("article",))
            if self.site_of[page.host].domain != other.domain:
                return page

    def regular(self) -> list[_Draft]:
        return [d for d in self.drafts.values() if d.role in ("home", "section", "article", "private")]

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def freeze(self, draft: _Draft, seed: int) -> Page:
        text_seed = zlib.crc32(f"{seed} {draft.host}{draft.path}".encode())
        return Page(
            draft.url, draft.host, draft.path, draft.kind, draft.status, draft.title, draft.role,
            tuple(draft.links), draft.robots_meta, draft.robots_header, text_seed,
        )  # fmt: skip


def _brand(label: str) -> str:
    for kind in KINDS:
        if label.endswith(kind) and label != kind:
            return f"{label[: -len(kind)].strip('-').capitalize()} {kind.capitalize()}"
    return label.capitalize()


def _title(rng: random.Random, topic: str) -> str:
    subject = rng.choice(TOPICS[topic])
    return rng.choice(TITLES).format(x=subject, X=subject[0].upper() + subject[1:])


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower().encode("ascii", "ignore").decode()).strip("-")


def _relative(rng: random.Random, source: str, target: str) -> str:
    """How a page at path `source` writes an internal link to path `target`."""
    folder = source.rsplit("/", 1)[0] + "/"
    rest = target[len(folder) :]
    if target.startswith(folder) and "/" not in rest:
        return rest or "./"
    if folder.count("/") == 2 and rng.random() < 0.5:
        return "../" + target[1:]
    return target


def _anchor(rng: random.Random, style: str, site: Site, title: str) -> tuple[str, str, str]:
    """(anchor a crawler records, inner HTML as written, link type) for one anchor style."""
    if style == "image":
        alt = site.brand if rng.random() < 0.8 else ""
        return alt, f'<img src="{LOGO_PATH}" alt="{escape(alt)}">', "image"
    if style == "generic":
        return (text := rng.choice(GENERIC_ANCHORS)), text, "text"
    text = {
        "brand": site.brand,
        "title": title,
        "naked": site.host,
        "nested": f"Read {title}",
        "padded": site.brand,
        "empty": "",
    }[style]
    markup = {
        "nested": f"Read <em>{escape(title)}</em>",
        "padded": f"\n        {escape(site.brand)}\n      ",
    }.get(style, escape(text))
    return text, markup, "text"


def _external_href(rng: random.Random, target: str, host: str, port: int, source: str) -> str:
    """`target` as an author might write it: absolute, protocol-relative, tracked, with a fragment."""
    path = target.split(f":{port}", 1)[1]
    if rng.random() < 0.06:
        host = ".".join(part.capitalize() if i % 2 == 0 else part.upper() for i, part in enumerate(host.split(".")))
    scheme = "" if rng.random() < 0.1 else "http:"
    query = "?" + rng.choice(TRACKING).format(src=source) if rng.random() < 0.12 else ""
    fragment = rng.choice(("#comments", "#top", "#section-2")) if rng.random() < 0.1 else ""
    return f"{scheme}//{host}:{port}{path}{query}{fragment}"
