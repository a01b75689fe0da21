"""The crawler connects only where the network policy allows: names and IP literals alike."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import DNSLookupError

from linkcrawler.downloader.netpolicy import address_allowed, parse_networks
from linkcrawler.downloader.resolver import AddressPolicyMiddleware, PolicyResolver

LOOPBACK = parse_networks(["127.0.0.0/8"])


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


def test_ip_literals_are_checked_before_download():
    middleware = AddressPolicyMiddleware(LOOPBACK)
    assert middleware.process_request(Request("http://127.0.0.2:8080/")) is None
    assert middleware.process_request(Request("http://example.com/")) is None
    for url in ("http://10.0.0.1/", "http://[::1]:80/", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(IgnoreRequest):
            middleware.process_request(Request(url))
