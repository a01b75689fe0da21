"""Seeds from sitemaps: the pages a site lists, which no link may reach.

For each site `sitemap_seeds` reads robots.txt's `Sitemap:` lines (or tries
`/sitemap.xml` when there are none), follows sitemap indexes, reads gzip
sitemaps, and keeps the listed URLs a worker would crawl: on the site's own
host (as the sitemaps protocol requires), allowed by its robots.txt, under
`ALLOWED_DOMAINS` and not under `DENIED_DOMAINS`, at most `PAGES_PER_DOMAIN`
per registered domain. Parsing is Scrapy's (`scrapy.utils.sitemap`, the
parser behind its `SitemapSpider`, with lxml's recovering parser and
entities off); fetching goes through `PolicyFetcher`, the crawl's network
policy. Bounds per site: `SITEMAP_MAX_FILES` sitemaps fetched,
`SITEMAP_MAX_BYTES` per sitemap (after gunzip), `SITEMAP_MAX_URLS` URLs.
A sitemap that fails or breaks a bound is skipped with one line saying why;
the rest of the site's sitemaps still count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml.etree import XMLSyntaxError
from protego import Protego
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from linkcrawler import config
from linkcrawler.downloader.fetch import FetchError, PolicyFetcher
from linkcrawler.extract.hosts import registered_domain
from linkcrawler.extract.urls import normalize_seed
from linkcrawler.frontier.scope import DomainFilter

GZIP_MAGIC = b"\x1f\x8b"


class NotFound(FetchError):
    """The sitemap URL answers 404 or 410."""


@dataclass(frozen=True)
class SitemapLimits:
    files: int
    bytes: int
    urls: int

    @classmethod
    def from_settings(cls, settings: Any) -> SitemapLimits:
        names = ("SITEMAP_MAX_FILES", "SITEMAP_MAX_BYTES", "SITEMAP_MAX_URLS")
        return cls(*(config.get(settings, name) for name in names))


class SitemapReader:
    """Reads sites' sitemaps under the crawl's settings (see the module docstring)."""

    def __init__(self, settings: Any) -> None:
        self.limits = SitemapLimits.from_settings(settings)
        self.fetcher = PolicyFetcher.from_settings(settings, self.limits.bytes)
        self.obey_robots = config.get(settings, "ROBOTSTXT_OBEY")
        self.user_agent = config.get(settings, "USER_AGENT")
        self.domains = DomainFilter(config.get(settings, "ALLOWED_DOMAINS"), config.get(settings, "DENIED_DOMAINS"))
        self.budget = config.get(settings, "PAGES_PER_DOMAIN")
        self.per_domain: dict[str, int] = {}

    def read(self, seed: str, report: Callable[[str], None]) -> list[str]:
        """The URLs the sitemaps of `seed`'s site list that a worker would crawl; `report` gets each problem line."""
        parts = urlsplit(seed)
        root = f"{parts.scheme}://{parts.netloc}"
        urls: list[str] = []
        host = parts.hostname or ""
        if not self.domains.allows(host):
            return urls
        robots = self._robots(root)
        named = list(sitemap_urls_from_robots(robots.encode(), base_url=f"{root}/robots.txt")) if robots else []
        rules = Protego.parse(robots) if robots and self.obey_robots else None
        guess = f"{root}/sitemap.xml"
        if not named and rules is not None and not rules.can_fetch(guess, self.user_agent):
            return urls
        seen: set[str] = set()
        for url in self._listed(named or [guess], report, guessed=not named):
            clean = normalize_seed(url)
            if clean is None or clean in seen or urlsplit(clean).hostname != host:
                continue
            if rules is not None and not rules.can_fetch(clean, self.user_agent):
                continue
            bound = "SITEMAP_MAX_URLS" if len(urls) >= self.limits.urls else self._over_budget(host)
            if bound:
                report(f"{root}: stopped at {len(urls):,} sitemap URLs ({bound})")
                break
            seen.add(clean)
            urls.append(clean)
        return urls

    def _robots(self, root: str) -> str:
        """robots.txt's text; "" when there is none or it cannot be read (everything allowed, as Scrapy has it)."""
        try:
            fetched = self.fetcher.get(f"{root}/robots.txt")
        except FetchError:
            return ""
        return fetched.body.decode("utf-8", "replace") if fetched.status == 200 else ""

    def _listed(self, roots: list[str], report: Callable[[str], None], guessed: bool) -> Iterator[str]:
        """Page URLs of the sitemaps at `roots` and of the indexes among them, breadth first, bounded in files.

        A `guessed` root (`/sitemap.xml`, named nowhere) that does not exist is no problem worth a line.
        """
        pending, fetched = list(roots), set()
        while pending:
            url = pending.pop(0)
            if url in fetched:
                continue
            if len(fetched) >= self.limits.files:
                report(f"sitemap {url} skipped: over {self.limits.files} sitemaps for the site")
                return
            fetched.add(url)
            try:
                kind, locs = self._sitemap(url)
            except NotFound:
                if not (guessed and url in roots):
                    report(f"sitemap {url} skipped: not found")
                continue
            except FetchError as exc:
                report(f"sitemap {url} skipped: {exc}")
                continue
            if kind == "sitemapindex":
                pending += locs
            else:
                yield from locs

    def _sitemap(self, url: str) -> tuple[str, list[str]]:
        """(`urlset` or `sitemapindex`, the `<loc>`s) of the sitemap at `url`; `FetchError` says what is wrong."""
        fetched = self.fetcher.get(url)
        if fetched.status in (404, 410):
            raise NotFound(url)
        if fetched.status != 200:
            raise FetchError(f"HTTP status {fetched.status}")
        body = fetched.body
        if body.startswith(GZIP_MAGIC):
            try:
                body = gunzip(body, max_size=self.limits.bytes)
            except ValueError:
                raise FetchError(f"larger than {self.limits.bytes:,} bytes once decompressed") from None
            except (OSError, EOFError):
                raise FetchError("not valid gzip") from None
        try:
            sitemap = Sitemap(body)
            if sitemap.type not in ("urlset", "sitemapindex"):
                raise FetchError(f"not a sitemap (its root element is <{sitemap.type}>)")
            return sitemap.type, [entry["loc"] for entry in sitemap if entry.get("loc")]
        except (XMLSyntaxError, StopIteration):
            raise FetchError("not well-formed XML") from None

    def _over_budget(self, host: str) -> str:
        """The bound stopping `host`'s next sitemap URL ("PAGES_PER_DOMAIN"), or "" after counting the URL."""
        if self.budget <= 0:
            return ""
        domain = registered_domain(host)
        if self.per_domain.get(domain, 0) >= self.budget:
            return "PAGES_PER_DOMAIN"
        self.per_domain[domain] = self.per_domain.get(domain, 0) + 1
        return ""
