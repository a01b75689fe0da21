"""Which IP addresses the crawler may connect to.

A crawler on a cluster fetches URLs that strangers wrote. Without a policy a
page could point it at the cluster's own services or a cloud metadata endpoint,
so by default only public unicast addresses are allowed. Tests and the demo
serve their synthetic web on loopback and allow exactly 127.0.0.0/8 through the
`CRAWL_NETWORKS` setting, which also makes sure they never reach anything else.

Some IPv6 addresses carry an IPv4 address, and a packet sent to one ends up
there: through a NAT64 translator (64:ff9b::/96), a 6to4 or Teredo relay, or a
host's own stack (IPv4-compatible ::a.b.c.d, IPv4-translated
::ffff:0:a.b.c.d). `64:ff9b::a9fe:a9fe` is the metadata endpoint
169.254.169.254, so such an address is allowed only when its IPv4 address is
too. An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 address on a
dual-stack socket and is judged as it. The local-use NAT64 prefix
64:ff9b:1::/48 places the IPv4 address where its operator chose, so it is
refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_LOOPBACK_AND_UNSPECIFIED = ipaddress.IPv6Network("::/127")


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
    multicast, reserved and unspecified addresses are refused. An IPv6
    address carrying an IPv4 address must pass as both (see the module
    docstring).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return _allowed(ip, networks)
    if ip.ipv4_mapped is not None:
        return _allowed(ip.ipv4_mapped, networks)
    if ip in _NAT64_LOCAL:
        return False
    carried = _embedded_ipv4(ip)
    return _allowed(ip, networks) and (carried is None or _allowed(carried, networks))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a packet to `ip` is delivered to by a translator, relay or the host's stack, if any."""
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _TRANSLATED or (ip in _COMPATIBLE and ip not in _LOOPBACK_AND_UNSPECIFIED):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: list[Network]) -> bool:
    if networks:
        return any(ip.version == net.version and ip in net for net in networks)
    return ip.is_global and not ip.is_multicast
