"""The crawler connects only where the network policy allows: names and IP literals alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import DNSLookupError

from linkcrawler.downloader.netpolicy import address_allowed, parse_networks
from linkcrawler.downloader.resolver import AddressPolicyMiddleware, PolicyResolver
from linkcrawler.local import demo
from tests.conftest import local_crawl
from tests.scripted_server import ScriptedServer, page

LOOPBACK = parse_networks(["127.0.0.0/8"])
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0",
     "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "100.64.0.1", "240.0.0.1", "not-an-ip"],
)  # fmt: skip
def test_by_default_only_public_addresses_are_allowed(address):
    assert not address_allowed(address, [])


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"])
def test_public_addresses_are_allowed_by_default(address):
    assert address_allowed(address, [])


def test_given_networks_replace_the_default():
    assert address_allowed("127.9.8.7", LOOPBACK)
    assert not address_allowed("8.8.8.8", LOOPBACK)
    assert not address_allowed("::1", LOOPBACK)


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b:1:a9fe:a9:fe00::", "64:ff9b:1::808:808", "2002:7f00:1::1",
     "2002:a9fe:a9fe::1", "2002:a00:1::1", "::127.0.0.1", "::169.254.169.254", "::ffff:0:7f00:1",
     "2001:0:4136:e378:8000:63bf:80ff:fffe"],
)  # fmt: skip
def test_ipv6_addresses_carrying_a_refused_ipv4_address_are_refused(address):
    """NAT64, local-use NAT64, 6to4, IPv4-compatible, IPv4-translated and Teredo (its client is 127.0.0.1)."""
    assert not address_allowed(address, [])
    assert not address_allowed(address, parse_networks(["::/0"]))


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])
def test_ipv6_addresses_carrying_a_public_ipv4_address_are_judged_by_it(address):
    assert address_allowed(address, [])
    assert not address_allowed(address, parse_networks(["::/0"]))
    assert address_allowed(address, parse_networks(["::/0", "8.8.8.0/24"]))


def test_ipv6_loopback_is_not_read_as_an_ipv4_address():
    assert address_allowed("::1", parse_networks(["::1/128"]))
    assert not address_allowed("::1", [])


def test_a_bad_network_is_named():
    with pytest.raises(ValueError, match=r"'127\.0\.0\.0/33'"):
        parse_networks(["127.0.0.0/33"])


def resolve(resolver: PolicyResolver, name: str):
    outcome = []
    resolver.getHostByName(name).addBoth(outcome.append)
    return outcome[0]


def make_resolver(hosts_only=True, networks=LOOPBACK):
    return PolicyResolver(None, 0, 5.0, {"Site.Example": "127.0.5.5", "evil.example": "10.0.0.5"}, hosts_only, networks)


def test_static_hosts_resolve_case_insensitively():
    assert resolve(make_resolver(), "site.example") == "127.0.5.5"


def test_a_static_host_outside_the_allowed_networks_fails_like_an_unknown_name():
    failure = resolve(make_resolver(), "evil.example")
    assert failure.check(DNSLookupError)
    assert "10.0.0.5" in str(failure.value)


def test_hosts_only_never_asks_the_system_resolver():
    failure = resolve(make_resolver(), "www.python.org")
    assert failure.check(DNSLookupError)
    assert "CRAWL_HOSTS_ONLY" in str(failure.value)


def test_an_ip_literal_resolves_to_itself_under_the_policy_even_with_hosts_only():
    assert resolve(make_resolver(), "127.0.0.3") == "127.0.0.3"
    for address in ("10.0.0.1", "169.254.169.254"):
        failure = resolve(make_resolver(), address)
        assert failure.check(DNSLookupError) and "CRAWL_NETWORKS" in str(failure.value)


@pytest.mark.slow
def test_scrapy_fetches_an_ip_literal_url_with_hosts_only():
    """Twisted asks the resolver even for an address: with CRAWL_HOSTS_ONLY it must not answer "unknown host"."""
    with ScriptedServer({"": page}) as server:
        fetched = subprocess.run(
            [sys.executable, "-m", "scrapy", "fetch", "--nolog", "-s", "CRAWL_HOSTS_ONLY=True",
             "-s", "CRAWL_NETWORKS=127.0.0.0/8", "-s", "ROBOTSTXT_OBEY=False", f"{server.url}/a-page"],
            capture_output=True, text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip
    assert "fetched-through-the-proxy.example" in fetched.stdout, fetched.stderr[-2000:]


def test_ip_literals_are_checked_before_download():
    middleware = AddressPolicyMiddleware(LOOPBACK)
    assert middleware.process_request(Request("http://127.0.0.2:8080/")) is None
    assert middleware.process_request(Request("http://example.com/")) is None
    for url in ("http://10.0.0.1/", "http://[::1]:80/", "http://169.254.169.254/latest/meta-data/",
                "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "http://[2002:7f00:1::1]/"):  # fmt: skip
        with pytest.raises(IgnoreRequest):
            middleware.process_request(Request(url))


@pytest.mark.slow
def test_a_proxy_in_the_environment_does_not_carry_the_crawl_past_the_policy(redis_client, redis_url, monkeypatch):
    """A worker with `http_proxy` set (to a recording proxy on loopback, allowed by CRAWL_NETWORKS, and resolved
    as CRAWL_HOSTS_ONLY=False lets it be) crawls a host mapped to the metadata endpoint: the name is refused by
    the policy, and the proxy is never asked for it."""
    loopback = demo.loopback_settings
    monkeypatch.setattr(demo, "loopback_settings", lambda hosts: {
        name: value for name, value in loopback(hosts).items() if name != "HTTPPROXY_ENABLED"
    })  # fmt: skip
    url = "http://metadata.example/latest/meta-data/"
    with ScriptedServer({"": page}) as proxy, local_crawl(redis_url, "lc_proxy") as crawl:
        for name in ("http_proxy", "HTTP_PROXY"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        hosts = {"metadata.example": "169.254.169.254"}
        crawl.crawl([url], hosts, workers=1, timeout=120, settings={"CRAWL_HOSTS_ONLY": "False"})
        stored = crawl.store.pages.find_one({"_id": url})
    assert proxy.requests == []
    assert stored["error"].startswith("CannotResolveHostError"), stored
