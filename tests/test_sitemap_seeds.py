"""`linkcrawler seed --sitemaps`: sitemap URLs against the synthetic web's model, bounds, bad sitemaps, policy."""

from __future__ import annotations

import ipaddress
import json
import socket
import time

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.local.synthweb import (
    WebServer,
    fetchable_pages,
    generate_web,
    ground_truth,
    identity,
    orphan_pages,
    sitemap_seeds,
)
from linkcrawler.local.synthweb.sitemaps import sitemap_sites
from tests.conftest import local_crawl
from tests.scripted_server import ScriptedServer, drip, raw

runner = CliRunner()


@pytest.fixture(scope="module")
def server():
    with WebServer(generate_web(seed=3, sites=12, pages_per_site=6)) as running:
        yield running


@pytest.fixture
def loopback(monkeypatch, server):
    """The crawl's own loopback policy, as the environment gives it to `project_settings`."""
    monkeypatch.setenv("CRAWL_HOSTS", json.dumps(server.hosts))
    monkeypatch.setenv("CRAWL_HOSTS_ONLY", "true")
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    server.reset_stats()
    yield
    for site in server.web.sites:
        for path in ("/sitemap.xml", "/feeds/site-map.xml", "/sitemaps/articles.xml.gz"):
            server.set_behaviour(server.url(site.host, path), None)


def seed(redis_url, *args):
    return runner.invoke(app, ["seed", "--redis-url", redis_url, "--sitemaps", *args])


def queued(redis_client):
    return [json.loads(raw)["url"] for raw in redis_client.lrange("backlinks:start_urls", 0, -1)]


def test_the_web_serves_an_index_a_gzip_sitemap_one_named_only_in_robots_and_orphans(server):
    web = server.web
    index, named, fallback = sitemap_sites(web.sites)
    assert web.sitemaps[index.sitemaps[0]].kind == "sitemapindex"
    assert any(sitemap.gzip for sitemap in web.sitemaps.values())
    assert named.sitemaps[0].endswith("/feeds/site-map.xml") and not fallback.sitemaps
    orphans = orphan_pages(web)
    assert len(orphans) == 3 and set(orphans) <= set(sitemap_seeds(web))
    assert not set(orphans) & fetchable_pages(web)
    assert any("/private/" in loc for sitemap in web.sitemaps.values() for loc in sitemap.locs)
    assert not any("/private/" in url for url in sitemap_seeds(web))


def test_every_sites_sitemap_urls_are_queued_and_only_those(redis_client, redis_url, server, loopback):
    result = seed(redis_url, *server.seeds)
    assert result.exit_code == 0, result.output
    expected = sitemap_seeds(server.web)
    assert f"({len(expected)} from sitemaps)" in result.output
    assert sorted(set(queued(redis_client)) - set(server.seeds)) == sorted(set(expected) - set(server.seeds))
    assert set(orphan_pages(server.web)) <= set(queued(redis_client))
    fetched = set(server.hits())
    assert {url for url in fetched if not url.endswith("/robots.txt")} == set(server.web.sitemaps) | {
        server.url(site.host, "/sitemap.xml") for site in server.web.sites
        if not site.sitemaps and site.allows("/sitemap.xml")
    }  # fmt: skip
    assert result.stderr == ""


def test_malformed_and_oversized_sitemaps_each_give_one_line_and_the_rest_still_count(
    redis_client, redis_url, server, loopback, monkeypatch
):
    monkeypatch.setenv("SITEMAP_MAX_BYTES", "100000")
    web = server.web
    index, named, fallback = sitemap_sites(web.sites)
    malformed, bomb, huge = (
        server.url(named.host, "/feeds/site-map.xml"),
        server.url(index.host, "/sitemaps/articles.xml.gz"),
        server.url(fallback.host, "/sitemap.xml"),
    )
    server.set_behaviour(malformed, "body", text="<<< this is not a sitemap", content_type="application/xml")
    server.set_behaviour(bomb, "gzip_bomb", size=1_000_000)
    server.set_behaviour(huge, "body", text="<urlset>" + " " * 200_000)
    result = seed(redis_url, *server.seeds)
    assert result.exit_code == 0, result.output
    assert sorted(result.stderr.splitlines()) == sorted([
        f"linkcrawler: sitemap {malformed} skipped: not well-formed XML",
        f"linkcrawler: sitemap {bomb} skipped: larger than 100,000 bytes once decompressed",
        f"linkcrawler: sitemap {huge} skipped: larger than 100,000 bytes",
    ])  # fmt: skip
    head = set(web.sitemaps[server.url(index.host, "/sitemaps/pages.xml")].locs)
    assert set(queued(redis_client)) - set(server.seeds) == head - set(server.seeds)


def test_bounds_on_files_and_urls_per_site(redis_client, redis_url, server, loopback, monkeypatch):
    monkeypatch.setenv("SITEMAP_MAX_URLS", "3")
    index = sitemap_sites(server.web.sites)[0]
    home = server.url(index.host, "/")
    result = seed(redis_url, home)
    assert result.exit_code == 0, result.output
    bound = f"linkcrawler: {home.rstrip('/')}: stopped at 3 sitemap URLs (SITEMAP_MAX_URLS)"
    assert result.stderr.splitlines() == [bound]
    assert len(queued(redis_client)) == 3 and home in queued(redis_client)  # the home page is listed too
    monkeypatch.setenv("SITEMAP_MAX_URLS", "1000")
    monkeypatch.setenv("SITEMAP_MAX_FILES", "2")
    result = seed(redis_url, home)
    gz = server.url(index.host, "/sitemaps/articles.xml.gz")
    assert result.stderr.splitlines() == [f"linkcrawler: sitemap {gz} skipped: over 2 sitemaps for the site"]
    monkeypatch.setenv("SITEMAP_MAX_FILES", "50")
    monkeypatch.setenv("PAGES_PER_DOMAIN", "2")
    result = seed(redis_url, home)
    assert result.stderr.splitlines() == [
        f"linkcrawler: {home.rstrip('/')}: stopped at 2 sitemap URLs (PAGES_PER_DOMAIN)"
    ]


def test_sitemap_requests_obey_the_network_policy_and_allowed_domains(redis_client, redis_url, server, loopback,
                                                                      monkeypatch):  # fmt: skip
    monkeypatch.setenv("CRAWL_NETWORKS", "10.0.0.0/8")
    fallback = sitemap_sites(server.web.sites)[2]
    result = seed(redis_url, server.url(fallback.host, "/"))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"linkcrawler: sitemap {server.url(fallback.host, '/sitemap.xml')} skipped: {fallback.host} resolves to "
        f"{fallback.ip}, which CRAWL_NETWORKS does not allow"
    ]
    assert server.hits() == {}
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("ALLOWED_DOMAINS", fallback.domain)
    assert seed(redis_url, *server.seeds).exit_code == 0
    assert {url.split("/")[2].split(":")[0] for url in server.hits()} == {fallback.host}


@pytest.fixture
def loopback_only(monkeypatch):
    """Connections the fetcher opens outside 127.0.0.0/8 are recorded and refused, never made."""
    refused, connect = [], socket.create_connection

    def guarded(address, *args, **kwargs):
        if ipaddress.ip_address(address[0]) not in ipaddress.ip_network("127.0.0.0/8"):
            refused.append(address[0])
            raise ConnectionRefusedError("refused by the test: not loopback")
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return refused


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "::127.0.0.1"])
def test_ipv6_addresses_carrying_a_refused_ipv4_address_are_never_connected(redis_url, loopback_only, monkeypatch,
                                                                            address):  # fmt: skip
    """NAT64 of the metadata endpoint, 6to4 and IPv4-compatible loopback, under the default public-only policy."""
    monkeypatch.setenv("CRAWL_HOSTS", json.dumps({"site.example": address}))
    monkeypatch.delenv("CRAWL_NETWORKS", raising=False)
    result = seed(redis_url, "http://site.example/")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"linkcrawler: sitemap http://site.example/sitemap.xml skipped: site.example resolves to {address}, "
        "which CRAWL_NETWORKS does not allow"
    ]
    assert loopback_only == []


NOT_FOUND = raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture
def scripted_host(monkeypatch):
    """`scripted.example` on 127.0.0.1, the only host the fetcher may reach; a `ScriptedServer` answers for it."""
    monkeypatch.setenv("CRAWL_HOSTS", json.dumps({"scripted.example": "127.0.0.1"}))
    monkeypatch.setenv("CRAWL_HOSTS_ONLY", "true")
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    return lambda server: f"http://scripted.example:{server.url.rsplit(':', 1)[1]}"


def test_what_a_server_sent_reaches_the_terminal_escaped(redis_client, redis_url, scripted_host):
    """A status line carrying an OSC title change and a clear-screen sequence, in the line saying why a sitemap
    was skipped."""
    hostile = b"HTTP/1.1 2\x1b]0;owned\x07\x1b[2J\r\n\r\n"
    with ScriptedServer({"/robots.txt": NOT_FOUND, "": raw(hostile)}) as server:
        site = scripted_host(server)
        result = seed(redis_url, f"{site}/")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"linkcrawler: sitemap {site}/sitemap.xml skipped: BadStatusLine: HTTP/1.1 2\\x1b]0;owned\\x07\\x1b[2J\\r\\n"
    ]


def test_a_url_a_sitemap_lists_cannot_forge_a_line(redis_client, redis_url, scripted_host):
    """An index entry with a newline and a fake report line in it, named in the line saying why it was skipped."""
    index = b"<sitemapindex><sitemap><loc>/gone.xml\nlinkcrawler: forged</loc></sitemap></sitemapindex>"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(index)
    with ScriptedServer({"/sitemap.xml": raw(ok + index), "": NOT_FOUND}) as server:
        result = seed(redis_url, f"{scripted_host(server)}/")
    [line] = result.stderr.splitlines()
    assert line.startswith("linkcrawler: sitemap /gone.xml\\nlinkcrawler: forged skipped: not an http(s) URL")


def test_a_server_dripping_its_headers_is_cut_off_at_the_download_timeout(redis_client, redis_url, scripted_host,
                                                                          monkeypatch):  # fmt: skip
    """Headers one byte every 50 ms (11 s in all) under DOWNLOAD_TIMEOUT=1: each read is quick, the whole is not.
    The bound is generous; it tells a deadline kept from one that is not (the fetch took 11 s)."""
    monkeypatch.setenv("DOWNLOAD_TIMEOUT", "1")
    headers = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
    with ScriptedServer({"/robots.txt": NOT_FOUND, "": drip(headers, interval=0.05)}) as server:
        site = scripted_host(server)
        started = time.monotonic()
        result = seed(redis_url, f"{site}/")
        took = time.monotonic() - started
    assert result.stderr.splitlines() == [f"linkcrawler: sitemap {site}/sitemap.xml skipped: took longer than 1 s"]
    assert took < 3


@pytest.mark.slow
def test_a_crawl_seeded_from_sitemaps_fetches_the_orphan_pages(redis_client, redis_url, monkeypatch):
    with WebServer(generate_web(seed=4, sites=12, pages_per_site=8)) as web, local_crawl(redis_url, "lc_sm") as local:
        monkeypatch.setenv("CRAWL_HOSTS", json.dumps(web.hosts))
        monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
        assert seed(redis_url, *web.seeds).exit_code == 0
        web.reset_stats()
        local.crawl(web.seeds, web.hosts, workers=2, timeout=300)
        pages = {url for url in web.hits() if not url.endswith("/robots.txt")}
        stored = {identity(doc) for doc in local.store.links.find()}
        assert pages == fetchable_pages(web.web) | set(sitemap_seeds(web.web))
        assert set(orphan_pages(web.web)) <= pages
        assert stored == {identity(link) for link in ground_truth(web.web)}
