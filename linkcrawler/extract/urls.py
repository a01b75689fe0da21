"""URL normalization: the identity of every stored link rests on it (hosts and registered domains: `hosts`).

`UrlNormalizer.normalize` turns an href found on a page into the one form the
crawler stores and deduplicates on. The rules, in order:

1. Tabs and newlines anywhere in the href are removed and surrounding
   whitespace and control characters stripped, as browsers do; a backslash
   before the query counts as a slash, as browsers do for http(s) URLs.
2. The href is resolved against the page's base (its `<base href>` or the
   final response URL, after redirects). Only http and https URLs are links:
   any other scheme (javascript:, mailto:, tel:, data:, ftp:, ...) is a skip.
3. Host: lower-cased, a trailing dot dropped, percent-escapes decoded,
   internationalized names converted to punycode the way browsers do (UTS 46,
   non-transitional: `faß.de` -> `xn--fa-hia.de`), IPv6 literals in their
   short form. A host with an empty label, a label over 63 characters or a
   character outside letters, digits, `-` and `_` is malformed.
4. Default ports (80 for http, 443 for https) are dropped, others kept.
   User name and password are dropped: they are not part of a page's identity
   and should not end up in a shared index.
5. The fragment is dropped, tracking parameters are removed from the query,
   then w3lib's `canonicalize_url` form is applied: percent-encoding
   normalized, dot segments resolved, query arguments sorted. Path case and
   trailing slashes are kept: servers may treat `/A` and `/a`, or `/a` and
   `/a/`, as different pages.
6. A result longer than the length limit is a skip.

Deviations from plain `canonicalize_url`: default ports, user info and a
host's trailing dot are dropped (it keeps them), and IDN hosts follow UTS 46
like browsers (it uses IDNA 2003, which maps `ß` to `ss`).

Skips are reported by kind, never raised, so the crawl can count them:
`SKIP_SCHEME`, `SKIP_MALFORMED`, `SKIP_TOO_LONG`.

Navigation and footer links repeat on every page of a site, and a worker
normalizes every link of every page, so results are cached: hrefs that start
with `http(s)://` or `/` by the page's origin and the href (absolute ones
also by the href alone, for links to one site from many), others by the page
URL and the href; registered domains by host. Common URL shapes (plain
paths, plain queries, plain paths relative to a plain directory) skip
`canonicalize_url`, which is slow, by building exactly what it would return;
the tests hold the two to the same answers.

"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from w3lib.url import canonicalize_url

from linkcrawler import config
from linkcrawler.extract.hosts import DEFAULT_PORTS, Site, registered_domain, remember, site_of

SKIP_SCHEME = "scheme"
SKIP_MALFORMED = "malformed"
SKIP_TOO_LONG = "too_long"
SKIP_KINDS = (SKIP_SCHEME, SKIP_MALFORMED, SKIP_TOO_LONG)
"""Why an href is not a link: not http(s); an unparsable URL, host or port; longer than the length limit."""

ORIGIN_CACHE_SIZE = 500
ORIGINS_CACHED = 100
"""Absolute, root-relative and protocol-relative hrefs are also cached per origin: two generations of up to this
many hrefs for each of the most recently crawled origins, enough for the navigation and footer links that every
page of a site repeats."""

_STRIP = "".join(map(chr, range(0x21)))
_HTTP = ("http://", "https://")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_ABSOLUTE = re.compile(r"(https?)://([^/?#\\@\[\]]*)((?:/[^?#]*)?)(?:\?([^#]*))?(?:#.*)?", re.I | re.S)
"""An absolute http(s) URL without user info or IPv6 literal: the common case, split without urlsplit."""
_PLAIN_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+(?::[0-9]{1,5})?)(?=[/?#]|\Z)")
"""The start of a URL in the form the crawler stores: lower-case scheme and host, then the path, query or end.
What `_ABSOLUTE` finds in such a URL, read without cleaning or matching the rest of it."""
_RELATIVE = re.compile(r"([^?#]*)(?:\?([^#]*))?", re.S)
_PATH = r"/[A-Za-z0-9._~!$&'()*+,=:@/-]*"
_QUERY = r"[A-Za-z0-9._~+=&-]*"
"""Paths and queries made of characters `canonicalize_url` leaves as they are. Flat character classes: a regular
expression of segments and arguments costs microseconds a URL. Two more conditions make them plain (see `_plain`):
no segment starts with `.` (a dot segment) and no argument holds a second `=` (it would be escaped)."""
_TWO_VALUES = re.compile(r"=[^&]*=")
_ESCAPED_PATH = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,=:@/-]|%(?![2][eE])[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNESCAPED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!$&'()*+,-:=@[]_|~")
"""A plain path with percent-escapes (wiki titles, non-ASCII slugs), the commonest href `canonicalize_url` would
otherwise see: it writes an escape as the character when that is one it leaves unescaped in a path, else in upper
case (`%2F`, `%3B`, `%3F` and `%25` stay escapes; `%2E`, a dot that may make a dot segment, is left to it)."""
_PLAIN_PATH = re.compile(_PATH)
_PLAIN_QUERY = re.compile(_QUERY)
_PLAIN_ABSOLUTE = re.compile(
    f"(https?)://([a-z0-9.-]+(?::[0-9]{{1,5}})?)((?:{_PATH})?)(?:\\?({_QUERY}))?(?:#.*)?", re.S
)
_PLAIN_ROOTED = re.compile(f"({_PATH})(?:\\?({_QUERY}))?(?:#.*)?", re.S)
_PLAIN_NETWORK = re.compile(f"//([a-z0-9.-]+(?::[0-9]{{1,5}})?)((?:{_PATH})?)(?:\\?({_QUERY}))?(?:#.*)?", re.S)
_PLAIN_RELATIVE = re.compile(f"([A-Za-z0-9._~!$&'()*+,=@-]+(?:{_PATH})?)(?:\\?({_QUERY}))?(?:#.*)?", re.S)
"""Common hrefs, whole: lower-case scheme and host, plain path and query, or a plain path relative to the page's
directory (no scheme: no `:` in its first segment). One match and they are normalized."""
_found = tuple.__new__
"""Builds a `Normalized` without its keyword-handling constructor, which costs as much as the rest of a cache hit."""


class Normalized(NamedTuple):
    """A normalized URL with its host and registered domain, or why the href is not a link."""

    url: str | None
    skip: str | None = None
    host: str = ""
    domain: str = ""


_MALFORMED = Normalized(None, SKIP_MALFORMED)
_SCHEME_SKIP = Normalized(None, SKIP_SCHEME)
_TOO_LONG = Normalized(None, SKIP_TOO_LONG)


def split_host(url: str) -> tuple[str, str]:
    """`UrlNormalizer.split_host` with the default configuration, for callers without one of their own."""
    return _default.split_host(url)


class UrlNormalizer:
    """Normalizes hrefs with one configuration of tracking parameters and length limit.

    One instance per worker: its caches are what makes repeated navigation
    links cheap. `resolver(base)` is the per-page entry point; `normalize`
    is the same for a single href.
    """

    def __init__(
        self,
        tracking_params: Iterable[str] = config.TRACKING_PARAMS,
        max_length: int = config.default("MAX_URL_LENGTH"),
    ) -> None:
        self._tracking = _tracking_pattern(tracking_params)
        self.max_length = max_length
        self._absolute: dict[str, Normalized] = {}
        self._origins: dict[str, list[dict[str, Normalized]]] = {}
        self._relative: dict[tuple[str, str], Normalized] = {}

    def normalize(self, href: str, base: str) -> Normalized:
        """The normalized form of `href` found on a page whose base URL is `base`."""
        return self.resolver(base)(href)

    def resolver(self, base: str) -> Callable[[str], Normalized]:
        """`normalize` for every href of one page, with the page's share of the caches looked up once."""
        return self.page(base)[1]

    def page(self, base: str) -> tuple[dict[str, Normalized], Callable[[str], Normalized]]:
        """(known, resolve) for the hrefs of one page whose base URL is `base`.

        `known` maps hrefs that begin with `http(s)://` or `/` to their
        normalized form; their form depends on the page's origin at most, so
        it is shared by every page of the origin, and a hot loop looks hrefs
        up there before calling anything. `resolve` normalizes any href and
        fills the caches, `known` included.

        Each origin keeps two generations of hrefs: a full one becomes the
        old one, and an href found in the old one moves to the new one, so
        what every page of a site links to stays cached while the hrefs of
        single pages come and go. Origins are kept least recently used
        first: the one unused longest is dropped when a new one comes.
        """
        site = self.site_of(base)
        origin = f"{site.scheme}://{site.netloc}" if site else base
        generations = self._origins.pop(origin, None)
        if generations is None:
            generations = [{}, {}]
            if len(self._origins) >= ORIGINS_CACHED:
                del self._origins[next(iter(self._origins))]
        self._origins[origin] = generations
        absolute, relative, normalize, max_length = self._absolute, self._relative, self._normalize, self.max_length
        directory = _plain_directory(base) if site else None

        def resolve(href: str) -> Normalized:
            found = generations[0].get(href)
            if found is not None:
                return found
            if href.startswith("/"):
                found = generations[1].get(href) or normalize(href, base, site, directory)
            elif href.startswith(_HTTP):
                found = generations[1].get(href) or absolute.get(href)
                if found is None:
                    found = normalize(href, base, site, directory)
                    if len(href) <= max_length:
                        remember(absolute, href, found)
            else:
                key = (base, href)
                found = relative.get(key)
                if found is None:
                    found = normalize(href, base, site, directory)
                    if len(href) <= max_length:
                        remember(relative, key, found)
                return found
            if len(href) <= max_length:
                if len(generations[0]) >= ORIGIN_CACHE_SIZE:
                    generations[1] = generations[0]
                    generations[0] = {}
                generations[0][href] = found
            return found

        return generations[0], resolve

    def split_host(self, url: str) -> tuple[str, str]:
        """(host, registered domain) of a URL, the host as stored in links (IPv6 literals keep their brackets).

        From the URL's site, cached per scheme and netloc: the frontier asks
        this of every new link, and normalizing the whole URL again cost as
        much as encoding the request.
        """
        site = self.site_of(url)
        if site is not None:
            return site.host, site.domain
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        return host, registered_domain(host) if host else ""

    def site_of(self, url: str) -> Site | None:
        """The site part of an absolute http(s) URL, or None when `url` is not one.

        The frontier and the politeness middleware ask this of every URL they
        handle, nearly all of them normalized already: their origin is read
        first (`_PLAIN_ORIGIN`), which cost a third of cleaning and matching
        the whole URL.
        """
        match = _PLAIN_ORIGIN.match(url)
        if match is not None:
            return site_of(match.group(1), match.group(2))
        match = _ABSOLUTE.fullmatch(_clean_href(url))
        if match is not None:
            return site_of(match.group(1).lower(), match.group(2))
        normalized = self._normalize_joined(url, url) if _SCHEME.match(url) else Normalized(None)
        if normalized.url is None:
            return None
        return site_of(normalized.url.partition(":")[0], urlsplit(normalized.url).netloc)

    def _normalize(self, href: str, base: str, site: Site | None, directory: str | None = None) -> Normalized:
        """Plain hrefs first, as they are: a plain pattern matches no whitespace or backslash to clean away.

        `directory` is the plain path of the base's directory (`/d/` for `http://a.com/d/p`), if it has one.
        """
        if href.startswith("/"):
            if site is not None:
                if not href.startswith("//"):
                    plain = _PLAIN_ROOTED.fullmatch(href)
                    if plain is not None:
                        return self._plain(site, plain.group(1), plain.group(2))
                else:
                    plain = _PLAIN_NETWORK.fullmatch(href)
                    if plain is not None:
                        target = site_of(site.scheme, plain.group(1))
                        return self._plain(target, plain.group(2), plain.group(3)) if target else _MALFORMED
        else:
            plain = _PLAIN_ABSOLUTE.fullmatch(href)
            if plain is not None:
                target = site_of(plain.group(1), plain.group(2))
                return self._plain(target, plain.group(3), plain.group(4)) if target else _MALFORMED
            if directory is not None and (plain := _PLAIN_RELATIVE.fullmatch(href)) is not None:
                return self._plain(site, directory + plain.group(1), plain.group(2))
        return self._normalize_cleaned(_clean_href(href), base, site)

    def _normalize_cleaned(self, href: str, base: str, site: Site | None) -> Normalized:
        if href.startswith("/"):
            if site is None:
                return _MALFORMED
            if not href.startswith("//"):
                plain = _PLAIN_ROOTED.fullmatch(href)
                if plain is not None:
                    return self._plain(site, plain.group(1), plain.group(2))
                path, query = _RELATIVE.match(href).groups()
                return self._finish(site, path, query)
            href = f"{site.scheme}:{href}"
        plain = _PLAIN_ABSOLUTE.fullmatch(href)
        if plain is not None:
            scheme, netloc, path, query = plain.groups()
            target = site_of(scheme, netloc)
            return self._plain(target, path, query) if target else _MALFORMED
        match = _ABSOLUTE.fullmatch(href)
        if match is None:
            return self._normalize_relative(href, base, site)
        scheme, netloc, path, query = match.groups()
        target = site_of(scheme.lower(), netloc)
        return self._finish(target, path, query) if target else _MALFORMED

    def _normalize_relative(self, href: str, base: str, site: Site | None) -> Normalized:
        """Hrefs that are not absolute http(s) URLs, root-relative paths or protocol-relative URLs."""
        scheme = _SCHEME.match(href)
        if scheme is not None and scheme.group(1).lower() not in DEFAULT_PORTS:
            return _SCHEME_SKIP
        if site is not None and scheme is None:
            if not href or href.startswith("#"):
                href = base
            elif _is_plain_relative(href):
                href = _directory(base) + href
            match = _ABSOLUTE.fullmatch(href)
            if match is not None:
                scheme_name, netloc, path, query = match.groups()
                target = site_of(scheme_name.lower(), netloc)
                return self._finish(target, path, query) if target else _MALFORMED
        return self._normalize_joined(href, base)

    def _normalize_joined(self, href: str, base: str) -> Normalized:
        """The slow path: hrefs with dot segments or a query only, URLs with user info or IPv6 literals."""
        try:
            parts = urlsplit(urljoin(base, href))
            port = parts.port
        except ValueError:
            return _MALFORMED
        if parts.scheme not in DEFAULT_PORTS:
            return _SCHEME_SKIP
        hostname = parts.hostname or ""
        if ":" in hostname:
            hostname = f"[{hostname}]"
        site = site_of(parts.scheme, hostname if port is None else f"{hostname}:{port}")
        if site is None:
            return _MALFORMED
        return self._finish(site, parts.path, parts.query)

    def _finish(self, site: Site, path: str, query: str | None) -> Normalized:
        """The normalized URL of a site, path and query as found in an href."""
        if not query or _PLAIN_QUERY.fullmatch(query):
            if _PLAIN_PATH.fullmatch(path or "/"):
                return self._plain(site, path, query)
            if "%" in path and _ESCAPED_PATH.fullmatch(path):
                return self._plain(site, _ESCAPE.sub(_escape_form, path), query)
        return self._canonical(site, path, query)

    def _canonical(self, site: Site, path: str, query: str | None) -> Normalized:
        scheme, netloc, host, domain = site
        kept = "&".join(arg for arg in query.split("&") if arg and not self._tracking(arg)) if query else ""
        url = canonicalize_url(f"{scheme}://{netloc}{path}?{kept}&")  # "?" and "&": trailing spaces are not stripped
        if len(url) > self.max_length:
            return _TOO_LONG
        return _found(Normalized, (url, None, host, domain))

    def _plain(self, site: Site, path: str, query: str | None) -> Normalized:
        """The normalized URL of a plain path and query, built as `canonicalize_url` would write it.

        Tracking arguments dropped, the rest sorted by (name, value), `a` written `a=`. The path and query
        are made of plain characters (`_PATH`, `_QUERY`); a dot segment or a second `=` in an argument
        sends them to `canonicalize_url`.
        """
        if "/." in path or (query and query.count("=") > 1 and _TWO_VALUES.search(query)):
            return self._canonical(site, path, query)
        scheme, netloc, host, domain = site
        if not query:
            url = f"{scheme}://{netloc}{path or '/'}"
        elif "&" not in query:
            if self._tracking(query):
                url = f"{scheme}://{netloc}{path or '/'}"
            else:
                url = f"{scheme}://{netloc}{path or '/'}?{query if '=' in query else query + '='}"
        else:
            tracking = self._tracking
            kept = [arg if "=" in arg else f"{arg}=" for arg in query.split("&") if arg and not tracking(arg)]
            if len(kept) > 1:
                kept.sort(key=_by_name_then_value)
            url = f"{scheme}://{netloc}{path or '/'}?{'&'.join(kept)}" if kept else f"{scheme}://{netloc}{path or '/'}"
        if len(url) > self.max_length:
            return _TOO_LONG
        return _found(Normalized, (url, None, host, domain))


def _tracking_pattern(patterns: Iterable[str]) -> Callable[[str], Any]:
    """A matcher of query arguments (`name=value` or `name`) whose name fits one of the glob `patterns`.

    `*` stands for any run of characters and `?` for one; names compare case-insensitively.
    It runs on every query argument of every new URL, and a regular expression of two dozen
    case-insensitive alternatives costs microseconds an argument: ASCII names are looked up
    lower-cased among the plain patterns instead, and tried on the expression only when they
    start like a glob pattern.
    """
    patterns = [p.strip() for p in patterns if p.strip()]
    if not patterns:
        return lambda argument: None
    alternatives = sorted(re.escape(p).replace(r"\*", "[^=]*").replace(r"\?", "[^=]") for p in patterns)
    expression = re.compile(f"(?:{'|'.join(alternatives)})(?:=|\\Z)", re.I | re.S).match
    if any("=" in p or not p.isascii() for p in patterns):
        return expression
    plain = frozenset(p.lower() for p in patterns if "*" not in p and "?" not in p)
    globs = tuple(re.split(r"[*?]", p.lower(), maxsplit=1)[0] for p in patterns if "*" in p or "?" in p)

    def tracking(argument: str) -> Any:
        name = argument.partition("=")[0]
        if not name.isascii():
            return expression(argument)
        name = name.lower()
        return name in plain or (globs and name.startswith(globs) and expression(argument))

    return tracking


def _clean_href(href: str) -> str:
    if "\t" in href or "\n" in href or "\r" in href:
        href = href.replace("\t", "").replace("\n", "").replace("\r", "")
    href = href.strip(_STRIP)
    if "\\" in href:
        before, mark, after = href.partition("?")
        href = before.replace("\\", "/") + mark + after
    return href


def _escape_form(match: re.Match) -> str:
    """One percent-escape of a path as `canonicalize_url` writes it."""
    code = match.group(1).upper()
    character = chr(int(code, 16))
    return character if character in _UNESCAPED else f"%{code}"


def _by_name_then_value(argument: str) -> str:
    """Sort key of a `name=value` argument that orders as the (name, value) pair: `a=2` before `a1=1`."""
    return argument.replace("=", "\x00", 1)


def _is_plain_relative(href: str) -> bool:
    """A relative path that joins to its base's directory by concatenation: no dot segments, no query only."""
    return href[0] != "?" and "/." not in f"/{href.split('?', 1)[0]}"


def _plain_directory(base: str) -> str | None:
    """The path of `base`'s directory (`/d/` for `http://a.com/d/p?q`) if plain hrefs join it by concatenation."""
    match = _ABSOLUTE.fullmatch(base)
    if match is None:
        return None
    path = match.group(3)
    directory = path[: path.rindex("/") + 1] if path else "/"
    return directory if _PLAIN_PATH.fullmatch(directory) else None


def _directory(base: str) -> str:
    """`base` up to the last `/` of its path (`http://a.com/d/p?q` -> `http://a.com/d/`)."""
    base = base.split("#", 1)[0].split("?", 1)[0]
    return base + "/" if base.count("/") < 3 else base[: base.rindex("/") + 1]


_default = UrlNormalizer()


def normalize_seed(raw: str) -> str | None:
    """A seed in normalized form, or None unless it is an absolute http(s) URL with a valid host."""
    if not _SCHEME.match(raw.strip(_STRIP)):
        return None
    return _default.normalize(raw, raw).url
