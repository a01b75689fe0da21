"""The synthetic web: a deterministic model, a ground truth that follows the rules, a server that serves it.

These tests check the test bed itself, never the crawler: the model is
compared with independent references (tldextract for registered domains,
Protego for robots.txt, w3lib for canonical URLs) and the server with plain
http.client requests to each site's own loopback address.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from html import escape
from pathlib import Path

import lxml.html
import pytest
import tldextract
from protego import Protego
from w3lib.url import canonicalize_url

from linkcrawler.extract.links import LINK_TYPES, POSITIONS
from linkcrawler.local.synthweb import (
    FIELDS,
    WebServer,
    broken_links,
    fetchable_pages,
    generate_web,
    ground_truth,
    identity,
    indexable,
    link_changes,
    mutate,
    status_of,
)
from linkcrawler.local.synthweb.model import LOGO_PATH
from linkcrawler.local.synthweb.render import render_page, robots_txt

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"seed": 7, "sites": 10, "pages_per_site": 6}


@pytest.fixture(scope="module")
def web():
    return generate_web()


@pytest.fixture(scope="module")
def truth(web):
    return ground_truth(web)


@pytest.fixture(scope="module")
def server():
    with WebServer(generate_web(**SMALL)) as running:
        yield running


def get(server, host, path, method="GET", host_header=None, timeout=10):
    """One request to `host`'s own address, Host header naming `host_header` (default `host`)."""
    connection = http.client.HTTPConnection(server.web.site(host).ip, server.port, timeout=timeout)
    try:
        connection.request(method, path, headers={"Host": f"{host_header or host}:{server.port}"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_gone(pid, seconds=10.0):
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


# model -------------------------------------------------------------------------------


def test_same_seed_same_web_and_another_seed_another_web():
    assert generate_web(**SMALL) == generate_web(**SMALL)
    assert generate_web(**{**SMALL, "seed": 8}) != generate_web(**SMALL)
    assert generate_web(**SMALL).at_port(9999) == generate_web(**SMALL, port=9999)


def test_the_web_is_the_same_under_another_hash_seed(truth):
    script = "import json; from linkcrawler.local.synthweb import *; print(json.dumps(ground_truth(generate_web())))"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == truth


def test_every_site_has_its_own_loopback_address_and_several_share_a_24(web):
    ips = [ipaddress.ip_address(site.ip) for site in web.sites]
    assert len(set(ips)) == len(web.sites) == 30
    assert all(ip in ipaddress.ip_network("127.0.0.0/8") and str(ip) != "127.0.0.1" for ip in ips)
    subnets = Counter(site.subnet for site in web.sites)
    assert len(subnets) < len(ips) and max(subnets.values()) >= 2
    assert web.hosts == {site.host: site.ip for site in web.sites}
    assert web.seeds == [f"http://{site.host}:8080/" for site in web.sites]


def test_registered_domains_follow_the_public_suffix_list_with_private_suffixes(web):
    extract = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
    for site in web.sites:
        assert extract(site.host).top_domain_under_public_suffix == site.domain, site.host
    hosts_per_domain = Counter(site.domain for site in web.sites)
    assert max(hosts_per_domain.values()) == 2
    assert any(site.domain.endswith((".github.io", ".blogspot.com")) for site in web.sites)
    assert any(site.host.startswith("www.") for site in web.sites)


def test_robots_txt_says_what_the_model_assumes(web):
    for site in web.sites:
        rules = Protego.parse(robots_txt(site))
        for page in web.pages.values():
            if page.host == site.host:
                assert rules.can_fetch(page.url, "linkcrawler") == site.allows(page.path), page.url
    assert any(site.disallow == ("/",) for site in web.sites)
    assert any(site.disallow == ("/private/",) for site in web.sites)
    assert any(not site.has_robots for site in web.sites)


def test_model_urls_are_already_canonical(web):
    for page in web.pages.values():
        assert canonicalize_url(page.url, keep_fragments=False) == page.url
        for link in page.links:
            assert canonicalize_url(link.target, keep_fragments=False) == link.target


def test_links_are_written_in_the_forms_normalization_must_undo(web):
    hrefs = [link.href for page in web.pages.values() for link in page.links if link.host != page.host]
    assert any("utm_source=" in href for href in hrefs)
    assert any("#" in href for href in hrefs)
    assert any(href.startswith("//") for href in hrefs)
    assert any(href != href.lower() for href in hrefs)
    internal = [link.href for page in web.pages.values() for link in page.links if link.host == page.host]
    assert any(href.startswith("../") for href in internal) and any("/" not in href for href in internal)


def test_rendered_pages_carry_every_model_link_and_directive(web):
    for page in web.pages.values():
        response = render_page(web, page)
        assert response.status == page.status
        body = response.body.decode("utf-8", "replace")
        for link in page.links:
            if page.kind != "redirect":
                assert f'"{escape(link.href)}"' in body or f"url={escape(link.href)}" in body, (page.url, link)
        if page.robots_meta:
            assert f'<meta name="robots" content="{page.robots_meta}">' in body
        if page.robots_header:
            assert ("X-Robots-Tag", page.robots_header) in response.headers
        if page.kind == "redirect":
            assert ("Location", page.links[0].target) in response.headers


def test_rendered_anchors_regions_and_rels_are_the_models(web):
    """Read back with lxml: every `<a>` carries the model's href, anchor, type, region and rel."""
    for page in web.pages.values():
        if page.kind not in ("html", "refresh"):
            continue
        found = []
        for a in lxml.html.fromstring(render_page(web, page).body).iter("a"):
            region = next((el.tag for el in a.iterancestors() if el.tag in POSITIONS), "content")
            image = a.find("img")
            anchor = image.get("alt", "") if image is not None else " ".join(a.text_content().split())
            found.append((a.get("href"), anchor, "text" if image is None else "image", region, a.get("rel", "")))
        expected = [
            (link.href, link.anchor, link.link_type, link.position, link.rel)
            for link in page.links if link.link_type in ("text", "image")
        ]  # fmt: skip
        assert sorted(found) == sorted(expected), page.url


def test_small_and_bad_sizes():
    tiny = generate_web(seed=3, sites=3, pages_per_site=4)
    assert ground_truth(tiny) and fetchable_pages(tiny)
    with pytest.raises(ValueError):
        generate_web(sites=2)
    with pytest.raises(ValueError):
        generate_web(version=3)


# ground truth ------------------------------------------------------------------------


def test_ground_truth_holds_only_external_links_once_each(truth):
    assert len(truth) > 1000
    assert all(tuple(link) == FIELDS for link in truth)
    assert all(link["source_domain"] != link["target_domain"] for link in truth)
    assert len({identity(link) for link in truth}) == len(truth)
    assert {link["link_type"] for link in truth} == set(LINK_TYPES) - {"area"}
    assert {link["position"] for link in truth} == set(POSITIONS)
    for link in truth:
        assert link["target_url"] == canonicalize_url(link["target_url"], keep_fragments=False)
        assert "utm_" not in link["target_url"] and "#" not in link["target_url"]
        if link["nofollow"] or link["ugc"] or link["sponsored"]:
            assert not link["follow"]


def test_ground_truth_covers_anchors_rel_flags_and_page_level_nofollow(web, truth):
    anchors = {link["anchor"] for link in truth}
    assert "" in anchors and any("&" in anchor for anchor in anchors)
    flags = ("nofollow", "ugc", "sponsored", "follow")
    assert all(any(link[flag] for link in truth) and not all(link[flag] for link in truth) for flag in flags)
    nofollow_pages = {page.url for page in web.pages.values() if page.nofollow}
    from_those = [link for link in truth if link["source_url"] in nofollow_pages]
    assert from_those and not any(link["follow"] for link in from_those)
    assert any(web.pages[url].robots_header for url in {link["source_url"] for link in from_those})


def test_robots_disallowed_pages_are_never_sources_but_can_be_targets(web, truth):
    def disallowed(url):
        return status_of(web, url) is None

    hidden = [page for page in web.pages.values() if disallowed(page.url) and page.role in ("article", "private")]
    assert hidden and all(page.links for page in hidden)
    assert not any(disallowed(link["source_url"]) for link in truth)
    assert any(disallowed(link["target_url"]) and "/private/" in link["target_url"] for link in truth)
    assert not {page.url for page in hidden} & fetchable_pages(web)


def test_redirects_are_links_from_the_redirecting_url(web, truth):
    redirects = [link for link in truth if link["link_type"] == "redirect"]
    hops = [link for link in redirects if web.pages[link["source_url"]].kind == "redirect"]
    assert len(hops) >= 3 and any("/go/" in link["source_url"] for link in hops)
    for link in hops:
        assert link["source_ip"] == web.site(link["source_host"]).ip and link["follow"]
    assert any(web.pages[link["source_url"]].kind == "refresh" for link in redirects)


def test_fetchable_pages_do_not_depend_on_the_crawlers_follow_policy(web):
    pages = fetchable_pages(web)
    assert pages == fetchable_pages(web, follow_nofollow=False, link_types=("text", "image"))
    kinds = Counter(web.pages[url].kind for url in pages)
    assert {"html", "redirect", "missing", "error", "pdf", "png", "refresh"} <= set(kinds)
    assert not any(url.endswith(LOGO_PATH) for url in pages)
    assert all(status_of(web, url) is not None for url in pages)
    assert len(pages) >= 500


def test_broken_links_point_at_failing_urls(web):
    broken = broken_links(web)
    assert broken and {status_of(web, link["target_url"]) for link in broken} <= {404, 500}


# version 2 ---------------------------------------------------------------------------


def test_version_two_adds_removes_and_breaks_links_on_the_same_hosts(web):
    new = generate_web(version=2)
    assert new == mutate(web) and new.hosts == web.hosts and new.seeds == web.seeds
    assert fetchable_pages(new) == fetchable_pages(web)
    changes = link_changes(web, new)
    assert all(changes.values())
    reasons = {"link_removed", "source_failed", "source_redirected", "source_noindex", "source_canonicalized"}
    assert {link["reason"] for link in changes["removed"]} == reasons
    assert all(status_of(new, link["target_url"]) == 404 for link in changes["broken"])
    assert any(link["link_type"] == "redirect" for link in changes["added"])
    after = {identity(link) for link in ground_truth(new)}
    still_there = {"source_noindex", "source_canonicalized"}
    assert all((identity(link) in after) == (link["reason"] in still_there) for link in changes["removed"])
    unindexed = {link["source_url"] for link in changes["removed"] if link["reason"] in still_there}
    assert all(indexable(web, url) and not indexable(new, url) for url in unindexed)


# server ------------------------------------------------------------------------------


def test_server_answers_each_host_on_its_own_address(server):
    web = server.web
    page = next(p for p in web.pages.values() if p.role == "article" and web.site(p.host).allows(p.path))
    status, headers, body = get(server, page.host, page.path)
    assert status == 200 and body == render_page(web, page).body
    assert headers["Content-Type"].startswith("text/html") and headers["Connection"] == "keep-alive"
    other = next(site.host for site in web.sites if site.host != page.host)
    assert get(server, page.host, page.path, host_header=other)[0] == 421
    assert get(server, page.host, "/no/such/page.html")[0] == 404
    assert get(server, page.host, page.path, method="HEAD")[2] == b""


def test_server_serves_robots_txt_redirects_and_resources(server):
    web = server.web
    for site in web.sites:
        status, _, body = get(server, site.host, "/robots.txt")
        assert (status, body.decode() if status == 200 else None) == (
            (200, robots_txt(site)) if site.has_robots else (404, None)
        )
    for page in web.pages.values():
        if page.kind in ("redirect", "error", "pdf"):
            status, headers, _ = get(server, page.host, page.path)
            assert status == page.status and headers["Content-Type"] == page.content_type
            if page.kind == "redirect":
                assert headers["Location"] == page.links[0].target


def test_server_counts_hits_per_url_and_measures_each_host(server):
    server.reset_stats()
    site = server.web.sites[0]
    for _ in range(3):
        get(server, site.host, "/")
    get(server, site.host, "/?utm_source=x")
    hits = server.hits()
    assert hits == {server.url(site.host, "/"): 3, server.url(site.host, "/?utm_source=x"): 1}
    stats = server.host_stats()[site.host]
    assert stats["requests"] == 4 and stats["max_concurrent"] == 1 and stats["min_gap"] > 0
    assert [target for _, target, _ in server.requests()] == ["/"] * 3 + ["/?utm_source=x"]
    server.reset_stats()
    assert server.hits() == {} and server.host_stats()[site.host]["min_gap"] is None and server.requests() == []


def test_an_uneven_web_has_big_and_small_sites_and_is_served_as_generated():
    even, uneven = generate_web(**SMALL), generate_web(**SMALL, uneven=True)
    sizes = Counter(uneven.pages[url].host for url in fetchable_pages(uneven))
    assert max(sizes.values()) > 2 * min(sizes.values())
    assert uneven.at_port(9999) == generate_web(**SMALL, port=9999, uneven=True) and even != uneven
    with WebServer(uneven) as running:
        served = running.web
        url = next(url for url in sorted(fetchable_pages(served)) if served.pages[url].kind == "html"
                   and url not in even.at_port(running.port).pages)  # fmt: skip
        assert get(running, served.pages[url].host, served.pages[url].path)[0] == 200


def test_server_switches_to_version_two_on_the_same_port(server):
    old = server.web
    changes = link_changes(old, generate_web(**SMALL, port=server.port, version=2))
    gone = next(link["source_url"] for link in changes["removed"] if link["reason"] == "source_failed")
    page = old.pages[gone]
    assert get(server, page.host, page.path)[0] == 200
    server.set_version(2)
    try:
        assert server.web.version == 2 and server.web.port == old.port
        assert get(server, page.host, page.path)[0] == 404
    finally:
        server.set_version(1)


def test_server_measures_concurrency_and_applies_behaviours():
    with WebServer(generate_web(**SMALL), delay=0.3) as server:
        host = server.web.sites[1].host
        threads = [threading.Thread(target=get, args=(server, host, "/")) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stats = server.host_stats()[host]
        assert stats["requests"] == 3 and stats["max_concurrent"] == 3 and stats["max_connections"] == 3
        assert [(h, target) for h, target, _ in server.requests()] == [(host, "/")] * 3
        arrivals = [arrival for *_, arrival in server.requests()]
        assert arrivals == sorted(arrivals) and arrivals[-1] - arrivals[0] < 0.3  # served side by side
        server.set_behaviour(server.url(host, "/robots.txt"), "slow", seconds=0.5)
        started = time.monotonic()
        get(server, host, "/robots.txt")
        assert time.monotonic() - started >= 0.8


def test_server_process_is_gone_after_the_block_even_on_error():
    with pytest.raises(RuntimeError, match="boom"), WebServer(generate_web(**SMALL)) as server:
        pid = server.pid
        assert alive(pid)
        raise RuntimeError("boom")
    assert not alive(pid)


def test_server_exits_when_its_parent_dies():
    script = (
        "import os; from linkcrawler.local.synthweb import *\n"
        "server = WebServer(generate_web(seed=2, sites=3, pages_per_site=4)).start()\n"
        "print(server.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert wait_gone(int(out.stdout)), "orphaned synthweb server still running"


# command line ------------------------------------------------------------------------


def test_cli_truth_prints_the_ground_truth_as_json_lines():
    command = [
        sys.executable,
        "-m",
        "linkcrawler.local.synthweb",
        "truth",
        "--seed",
        "7",
        "--sites",
        "10",
        "--pages",
        "6",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert [json.loads(line) for line in out.stdout.splitlines()] == ground_truth(generate_web(**SMALL))


def test_cli_serve_prints_port_and_hosts_and_stops_after_its_time():
    command = [sys.executable, "-m", "linkcrawler.local.synthweb", "serve", "--sites", "4", "--pages", "4"]
    command += ["--seconds", "0.5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=True)
    web = generate_web(sites=4, pages_per_site=4)
    assert "port" in out.stdout and all(f"{site.ip:<16} {site.host}" in out.stdout for site in web.sites)
