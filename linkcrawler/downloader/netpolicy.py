"""Which IP addresses the crawler may connect to.

A crawler on a cluster fetches URLs that strangers wrote. Without a policy a
page could point it at the cluster's own services or a cloud metadata endpoint,
so by default only public unicast addresses are allowed. Tests and the demo
serve their synthetic web on loopback and allow exactly 127.0.0.0/8 through the
`CRAWL_NETWORKS` setting, which also makes sure they never reach anything else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(networks: Iterable[str] | None) -> list[Network]:
    """Parse CIDR strings; raise ValueError naming the first bad one."""
    parsed = []
    for text in networks or ():
        try:
            parsed.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"CRAWL_NETWORKS: {text!r} is not an IP network ({exc})") from None
    return parsed


def address_allowed(address: str, networks: list[Network]) -> bool:
    """True when `address` may be crawled.

    With `networks` given, the address must fall in one of them. Without, it
    must be a public (global) unicast address: private, loopback, link-local,
    multicast, reserved and unspecified addresses are refused.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if networks:
        return any(ip.version == net.version and ip in net for net in networks)
    return ip.is_global and not ip.is_multicast
