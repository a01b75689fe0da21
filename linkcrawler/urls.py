"""URL normalization and registered domains: the identity of every stored link rests on these.

`UrlNormalizer.normalize` turns an href found on a page into the one form the
crawler stores and deduplicates on: resolved against the page (or its
`<base href>`), http(s) only, host lower-cased and IDNA-encoded, default port
dropped, fragment dropped, tracking parameters removed, then w3lib's
`canonicalize_url` (percent-encoding and query order). Path case and trailing
slashes are kept: servers may treat `/A` and `/a`, or `/a` and `/a/`, as
different pages.

Navigation and footer links repeat on every page of a site, so results are
cached by (base, href) and registered domains by host.

Registered domains come from the Public Suffix List snapshot bundled with
tldextract (never fetched at run time), private section included: two blogs
on `github.io` or `blogspot.com` are two registered domains, as Ahrefs and
Majestic count them. A host on no public suffix (an IP address, an intranet
name) is its own registered domain.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import tldextract
from w3lib.url import canonicalize_url

DEFAULT_TRACKING_PARAMS = (
    "utm_*", "gclid", "gclsrc", "dclid", "fbclid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_enc_id", "oly_anon_id", "vero_id",
)  # fmt: skip
"""Query parameters that identify a click or campaign, not a page (glob patterns)."""

SKIP_SCHEME = "scheme"
SKIP_MALFORMED = "malformed"
SKIP_TOO_LONG = "too_long"
SKIP_KINDS = (SKIP_SCHEME, SKIP_MALFORMED, SKIP_TOO_LONG)
"""Why an href is not a link: not http(s) (javascript:, mailto:, tel:, data:, ftp:, ...),
an unparsable URL or host, or longer than the length limit."""

DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
_CONTROL = re.compile(r"[\t\n\r]")
_HOST_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$")
_CACHE_LIMIT = 200_000

_extract_domain = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)
_domains: dict[str, str] = {}
_clean_hosts: dict[str, str | None] = {}
_PLAIN_PATH = re.compile(r"(?:/(?!\.)[A-Za-z0-9._~-]*)+")
"""A path canonicalize_url leaves as it is: unreserved characters only, no dot segments."""
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9._~-]*")


def registered_domain(host: str) -> str:
    """The registered domain of a host (`www.bbc.co.uk` -> `bbc.co.uk`), or the host if it has none."""
    domain = _domains.get(host)
    if domain is None:
        domain = _extract_domain(host).top_domain_under_public_suffix or host
        if len(_domains) >= _CACHE_LIMIT:
            _domains.clear()
        _domains[host] = domain
    return domain


def split_host(url: str) -> tuple[str, str]:
    """(host, registered domain) of a normalized URL."""
    host = urlsplit(url).hostname or ""
    return host, registered_domain(host)


class Normalized(NamedTuple):
    """A normalized URL and its host, or the kind of skip when the href is not a link."""

    url: str | None
    skip: str | None
    host: str = ""


class UrlNormalizer:
    """Normalizes hrefs with one configuration of tracking parameters and length limit."""

    def __init__(self, tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS, max_length: int = 2048) -> None:
        patterns = [p.lower() for p in tracking_params]
        self._exact = frozenset(p for p in patterns if not any(c in p for c in "*?["))
        self._globs = tuple(p for p in patterns if p not in self._exact)
        self.max_length = max_length
        self._cache: dict[tuple[str, str], Normalized] = {}
        self._origins: dict[str, tuple[str, str, str] | None] = {}

    def normalize(self, href: str, base: str) -> Normalized:
        """The normalized form of `href` found on a page at `base`."""
        key = (base, href)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._normalize(href, base)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = cached
        return cached

    def _normalize(self, href: str, base: str) -> Normalized:
        if "\t" in href or "\n" in href or "\r" in href:
            href = _CONTROL.sub("", href)
        href = href.strip()
        scheme = _SCHEME.match(href)
        if scheme and scheme.group(1).lower() not in DEFAULT_PORTS:
            return Normalized(None, SKIP_SCHEME)
        origin = self._origin(base) if href.startswith("/") and not href.startswith("//") else None
        if origin is not None:  # root-relative, the commonest href: no join or split needed
            scheme_name, netloc, host = origin
            path, _, query = href.partition("#")[0].partition("?")
        else:
            resolved = _resolve(href, base)
            if isinstance(resolved, str):
                return Normalized(None, resolved)
            scheme_name, netloc, host, path, query = resolved
        return self._finish(scheme_name, netloc, host, path or "/", query)

    def _finish(self, scheme: str, netloc: str, host: str, path: str, raw_query: str) -> Normalized:
        pairs = parse_qsl(raw_query, keep_blank_values=True) if raw_query else []
        kept = [(k, v) for k, v in pairs if not self._is_tracking(k.lower())]
        if _PLAIN_PATH.fullmatch(path) and all(_PLAIN_TEXT.fullmatch(k + v) for k, v in kept):
            # What canonicalize_url would make of it (sorted, unreserved characters only), without its cost.
            query = "&".join(f"{k}={v}" for k, v in sorted(kept))
            url = f"{scheme}://{netloc}{path}{'?' if query else ''}{query}"
        else:
            query = raw_query if len(kept) == len(pairs) else urlencode(kept)
            url = canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))
        if len(url) > self.max_length:
            return Normalized(None, SKIP_TOO_LONG)
        return Normalized(url, None, host)

    def _origin(self, base: str) -> tuple[str, str, str] | None:
        """(scheme, netloc, host) of a page URL, cached: every root-relative href on the page shares it."""
        origin = self._origins.get(base, False)
        if origin is False:
            resolved = _resolve(base, base)
            origin = None if isinstance(resolved, str) else resolved[:3]
            if len(self._origins) >= _CACHE_LIMIT:
                self._origins.clear()
            self._origins[base] = origin
        return origin

    def _is_tracking(self, name: str) -> bool:
        return name in self._exact or any(fnmatch.fnmatchcase(name, glob) for glob in self._globs)


def _resolve(href: str, base: str) -> tuple[str, str, str, str, str] | str:
    """(scheme, netloc, host, path, query) of `href` resolved against `base`, or the skip kind."""
    try:
        absolute = href if href[:8].lower().startswith(("http://", "https://")) else urljoin(base, href)
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return SKIP_MALFORMED
    if parts.scheme not in DEFAULT_PORTS:
        return SKIP_SCHEME
    host = _clean_host(parts.hostname or "")
    if host is None:
        return SKIP_MALFORMED
    netloc = host if port in (None, DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"
    return parts.scheme, netloc, host, parts.path, parts.query


def _clean_host(raw: str) -> str | None:
    """Lower-cased, IDNA-encoded host, or None when it cannot be a host name or IP literal."""
    if raw in _clean_hosts:
        return _clean_hosts[raw]
    if len(_clean_hosts) >= _CACHE_LIMIT:
        _clean_hosts.clear()
    host = _clean_hosts[raw] = _checked_host(raw)
    return host


def _checked_host(host: str) -> str | None:
    host = host.rstrip(".").lower()
    if not host:
        return None
    if ":" in host:  # IPv6 literal, already validated by urlsplit
        return f"[{host}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) and len(label) <= 63 for label in labels):
        return None
    return host


_default = UrlNormalizer()


def normalize_seed(raw: str) -> str | None:
    """A seed in normalized form, or None unless it is an absolute http(s) URL with a valid host."""
    if not _SCHEME.match(raw):
        return None
    return _default.normalize(raw, raw).url
