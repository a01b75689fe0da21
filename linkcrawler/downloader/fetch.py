"""Blocking GETs for commands that read a site themselves (`linkcrawler seed --sitemaps`), under the crawl's policy.

Workers fetch through Scrapy, whose resolver applies `CRAWL_HOSTS`,
`CRAWL_HOSTS_ONLY` and `CRAWL_NETWORKS` (`linkcrawler.downloader.resolver`).
A command fetching robots.txt and sitemaps must not be a way around them, so
every connection here goes to an address chosen the same way: the static
hosts table first, the system resolver only when allowed, and the address
checked against the allowed networks, for the first URL and every redirect.
Each read is bounded in time and bytes.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from linkcrawler import config
from linkcrawler.downloader.netpolicy import Network, address_allowed, parse_networks

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL that could not be fetched under the policy and bounds; the message says why, in a few words."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes


class PolicyFetcher:
    """GET with the crawl's DNS override and network policy, `timeout` seconds per URL and at most `max_bytes`."""

    def __init__(self, hosts: dict[str, str], hosts_only: bool, networks: list[Network], user_agent: str,
                 timeout: float, max_bytes: int) -> None:  # fmt: skip
        self.hosts = {name.lower(): ip for name, ip in hosts.items()}
        self.hosts_only = hosts_only
        self.networks = networks
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Any, max_bytes: int) -> PolicyFetcher:
        return cls(
            config.get(settings, "CRAWL_HOSTS"),
            config.get(settings, "CRAWL_HOSTS_ONLY"),
            parse_networks(config.get(settings, "CRAWL_NETWORKS")),
            config.get(settings, "USER_AGENT"),
            float(config.get(settings, "DOWNLOAD_TIMEOUT")),
            max_bytes,
        )

    def get(self, url: str) -> Fetched:
        """The final response after at most `MAX_REDIRECTS` redirects; raise `FetchError` for anything else."""
        for _ in range(MAX_REDIRECTS + 1):
            status, location, body = self._get_once(url)
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            return Fetched(url, status, body)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def address(self, host: str) -> str:
        """The address to connect to for `host`, or `FetchError` when the policy forbids it."""
        address = self.hosts.get(host.lower())
        if address is None:
            if self.hosts_only:
                raise FetchError(f"{host} is not in CRAWL_HOSTS and CRAWL_HOSTS_ONLY is set")
            try:
                address = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0]
            except (OSError, UnicodeError) as exc:
                raise FetchError(f"cannot resolve {host}: {exc}") from None
        if not address_allowed(str(address), self.networks):
            raise FetchError(f"{host} resolves to {address}, which CRAWL_NETWORKS does not allow")
        return str(address)

    def _get_once(self, url: str) -> tuple[int, str, bytes]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"bad port in {url}") from None
        address = self.address(parts.hostname)
        deadline = time.monotonic() + self.timeout
        try:
            sock = socket.create_connection((address, port), timeout=self.timeout)
            if parts.scheme == "https":
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
            connection = http.client.HTTPConnection(parts.hostname, port, timeout=self.timeout)
            connection.sock = sock
            try:
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                headers = {"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
                connection.request("GET", target, headers=headers)
                response = connection.getresponse()
                body = self._read(response, deadline)
                return response.status, response.getheader("Location") or "", body
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None

    def _read(self, response: http.client.HTTPResponse, deadline: float) -> bytes:
        chunks, size = [], 0
        while chunk := response.read1(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"larger than {self.max_bytes:,} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"took longer than {self.timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)
