"""Name resolution under the crawl's network policy.

Three jobs, all at the point where a hostname becomes an address:

- `CRAWL_HOSTS` (dict host -> IP): a static hosts table, so the synthetic web
  can give every site its own loopback address (distinct referring IPs and
  /24 subnets) without touching the system resolver;
- `CRAWL_HOSTS_ONLY` (bool, default False): resolve nothing outside that
  table, so tests and the demo cannot reach a real host by accident;
- `CRAWL_NETWORKS` (list of CIDRs, default empty = public addresses only):
  a name that resolves outside the allowed networks fails like an unknown
  name (see `linkcrawler.downloader.netpolicy` for why).

An IP literal is its own address: Twisted's endpoints still ask the
resolver for it, which answers it without a lookup, under the same
`CRAWL_NETWORKS` check, `CRAWL_HOSTS_ONLY` or not. `AddressPolicyMiddleware`
refuses the literals outside the policy before they are even queued for
download.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from w3lib.url import parse_url

from linkcrawler import config
from linkcrawler.downloader.netpolicy import Network, address_allowed, parse_networks


class PolicyResolver(CachingThreadedResolver):
    """`TWISTED_DNS_RESOLVER = "linkcrawler.downloader.resolver.PolicyResolver"`."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float, hosts: dict[str, str],
                 hosts_only: bool, networks: list[Network]) -> None:  # fmt: skip
        super().__init__(reactor, cache_size, timeout)
        self.hosts = {name.lower(): ip for name, ip in hosts.items()}
        self.hosts_only = hosts_only
        self.networks = networks

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PolicyResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            cache_size,
            settings.getfloat("DNS_TIMEOUT"),
            config.get(settings, "CRAWL_HOSTS"),
            config.get(settings, "CRAWL_HOSTS_ONLY"),
            parse_networks(config.get(settings, "CRAWL_NETWORKS")),
        )

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred:
        static = self.hosts.get(name.lower()) or (name if _is_address(name) else None)
        if static is not None:
            return defer.maybeDeferred(self._check, static, name)
        if self.hosts_only:
            return defer.fail(DNSLookupError(f"{name} is not in CRAWL_HOSTS and CRAWL_HOSTS_ONLY is set"))
        return super().getHostByName(name, timeout).addCallback(self._check, name)

    def _check(self, address: str, name: str) -> str:
        if not address_allowed(address, self.networks):
            raise DNSLookupError(f"{name} resolves to {address}, which CRAWL_NETWORKS does not allow")
        return address


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class AddressPolicyMiddleware:
    """Downloader middleware refusing URLs whose host is an IP literal outside `CRAWL_NETWORKS`."""

    def __init__(self, networks: list[Network]) -> None:
        self.networks = networks

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressPolicyMiddleware:
        return cls(parse_networks(config.get(crawler.settings, "CRAWL_NETWORKS")))

    def process_request(self, request: Any) -> None:
        host = (parse_url(request.url).hostname or "").strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return
        if not address_allowed(host, self.networks):
            raise IgnoreRequest(f"{host} is outside CRAWL_NETWORKS")
