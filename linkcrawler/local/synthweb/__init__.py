"""A synthetic web for tests, the demo and benchmarks: seeded sites on loopback with a known link graph.

    web = generate_web(seed=1, sites=30, pages_per_site=20)
    with WebServer(web) as server:          # a child process on 127.77.x.y:port
        crawl(server.seeds, server.hosts)   # hosts: the crawler's DNS override
        assert set(server.hits()) - robots == fetchable_pages(server.web)
        expected = ground_truth(server.web)

Modules: `model` (the data), `generate` (the seeded generator), `mutate`
(version 2: links added, removed, broken, pages unindexed), `sitemaps`
(sitemaps naming orphan pages), `render` (HTML, robots.txt, sitemaps),
`truth` (expected crawl results from the model), `httpd` (the HTTP server
process and its measurements), `server` (`WebServer`, which runs it).
"""

from linkcrawler.local.synthweb.generate import generate_web
from linkcrawler.local.synthweb.httpd import BEHAVIOURS
from linkcrawler.local.synthweb.model import ModelLink, Page, Site, Web
from linkcrawler.local.synthweb.mutate import mutate
from linkcrawler.local.synthweb.server import WebServer
from linkcrawler.local.synthweb.truth import (
    FIELDS,
    broken_links,
    fetchable_pages,
    ground_truth,
    identity,
    indexable,
    link_changes,
    orphan_pages,
    sitemap_seeds,
    status_of,
)

__all__ = [
    "BEHAVIOURS",
    "FIELDS",
    "ModelLink",
    "Page",
    "Site",
    "Web",
    "WebServer",
    "broken_links",
    "fetchable_pages",
    "generate_web",
    "ground_truth",
    "identity",
    "indexable",
    "link_changes",
    "mutate",
    "orphan_pages",
    "sitemap_seeds",
    "status_of",
]
