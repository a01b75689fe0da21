"""Hosts and registered domains: how a URL's site is written in the index, and which domain owns it.

A host is lower-cased, loses a trailing dot and its percent-escapes,
internationalized names become punycode the way browsers write them (UTS 46,
non-transitional: `faß.de` -> `xn--fa-hia.de`) and IPv6 literals take their
short form. A host with an empty label, a label over 63 characters or a
character outside letters, digits, `-` and `_` is malformed. Default ports
(80 for http, 443 for https) are dropped, others kept.

Registered domains come from the Public Suffix List snapshot bundled with
tldextract, never fetched at run time (`suffix_list_urls=()` and
`cache_dir=None`: tldextract then tries no URL and reads its packaged
snapshot). The list's private section is included, so each customer of a
hosting platform is its own registered domain: `alice.github.io` and
`bob.github.io`, or two blogs on `blogspot.com`, are two referring domains,
as Ahrefs and Majestic count them. A host on no public suffix (an IP address,
`localhost`, an intranet name) is its own registered domain.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import unquote

import idna
import tldextract

DEFAULT_PORTS = {"http": "80", "https": "443"}
CACHE_SIZE = 50_000
"""Entries per cache: absolute hrefs, other relative hrefs, hosts, registered domains. A full cache is emptied
and refills with what pages link to now. The href caches (these two, the per-origin ones of `urls` and the extractor's
anchors) hold about 70 MB at their limits with hrefs of 50-60 characters (measured with tracemalloc)."""


class Site(NamedTuple):
    """The part of a URL shared by all links to one site."""

    scheme: str
    netloc: str
    """As stored: the host, and the port unless it is the scheme's default."""
    host: str
    domain: str
    """The host's registered domain."""


_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_PORT = re.compile(r"[0-9]{1,5}")


_extract_suffix = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)
_domains: dict[str, str] = {}
_sites: dict[tuple[str, str], Site | None] = {}


def registered_domain(host: str) -> str:
    """The registered domain of a host (`www.bbc.co.uk` -> `bbc.co.uk`), or the host itself if it has none."""
    domain = _domains.get(host)
    if domain is None:
        domain = _extract_suffix(host).top_domain_under_public_suffix or host
        remember(_domains, host, domain)
    return domain


def site_of(scheme: str, netloc: str) -> Site | None:
    """The site of a raw `host[:port]` under `scheme`, or None when the host or port is malformed; cached."""
    key = (scheme, netloc)
    if key in _sites:
        return _sites[key]
    site = _checked_site(scheme, netloc)
    remember(_sites, key, site)
    return site


def _checked_site(scheme: str, netloc: str) -> Site | None:
    raw_host, port = netloc, ""
    if not netloc.endswith("]") and ":" in netloc:
        raw_host, _, port = netloc.rpartition(":")
        if port and (not _PORT.fullmatch(port) or int(port) > 65535):
            return None
    host = _clean_host(raw_host)
    if host is None:
        return None
    port = port.lstrip("0") or ("0" if port else "")
    stored = host if not port or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return Site(scheme, stored, host, registered_domain(host))


def _clean_host(raw: str) -> str | None:
    """Lower-cased, punycoded host or short-form IPv6 literal, or None when it cannot be a host."""
    if raw.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1])}]"
        except ValueError:
            return None
    if "%" in raw:
        raw = unquote(raw)
    host = raw.lower().removesuffix(".")
    if not host.isascii():
        host = _punycode(host)
    if not host or len(host) > 253:
        return None
    return host if all(_HOST_LABEL.fullmatch(label) for label in host.split(".")) else None


def _punycode(host: str) -> str:
    """A host in ASCII as browsers send it (UTS 46 mapping, IDNA 2008 labels), or "" when it has no such form."""
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False).removesuffix(".")
    except idna.IDNAError:
        return ""
    labels = []
    for label in mapped.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(idna.alabel(label).decode("ascii"))
        except (idna.IDNAError, UnicodeError):
            try:  # symbols such as `☃` that IDNA 2008 refuses and browsers still resolve
                labels.append(label.encode("idna").decode("ascii"))
            except UnicodeError:
                return ""
    return ".".join(labels)


def remember(cache: dict, key: object, value: object) -> None:
    """Keep `value` under `key`; a full cache is emptied first and refills with what pages link to now."""
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
