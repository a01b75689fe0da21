"""Blocking GETs for commands that read a site themselves (`seed --sitemaps`, `extract URL`), under the crawl's policy.

Workers fetch through Scrapy, whose resolver applies `CRAWL_HOSTS`,
`CRAWL_HOSTS_ONLY` and `CRAWL_NETWORKS` (`linkcrawler.downloader.resolver`).
A command fetching robots.txt, sitemaps or a page must not be a way around them, so
every connection here goes to an address chosen the same way: the static
hosts table first, the system resolver only when allowed, and the address
checked against the allowed networks, for the first URL and every redirect;
the connection goes to that address, never to a second answer of the
resolver, and never through a proxy the environment names.

Each URL is bounded in bytes and, as a whole (connecting, TLS, headers and
body), by `DOWNLOAD_TIMEOUT`: a socket timeout bounds each read, so a server
sending one byte at a time would hold it for ever, and a timer shuts the
connection down when the time is up. What a server sent reaches an error
message only as `printable` text: it is shown in the operator's terminal.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from linkcrawler import config
from linkcrawler.downloader.netpolicy import Network, address_allowed, parse_networks
from linkcrawler.terminal import printable

MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL that could not be fetched under the policy and bounds; the message says why, in a few words.

    The message often carries what a server sent (a status line, a redirect's
    URL), so it is kept `printable`.
    """

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    headers: dict[str, str]  # names lower-cased


class PolicyFetcher:
    """GET with the crawl's DNS override and network policy, `timeout` seconds per URL and at most `max_bytes`.

    A longer body is refused, or with `cut` its first `max_bytes` are kept (as
    a worker's extractor keeps the start of an oversized document).
    """

    def __init__(self, hosts: dict[str, str], hosts_only: bool, networks: list[Network], user_agent: str,
                 timeout: float, max_bytes: int, cut: bool = False) -> None:  # fmt: skip
        self.hosts = {name.lower(): ip for name, ip in hosts.items()}
        self.hosts_only = hosts_only
        self.networks = networks
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cut = cut

    @classmethod
    def from_settings(cls, settings: Any, max_bytes: int, cut: bool = False) -> PolicyFetcher:
        """Raises `ValueError` naming a bad `CRAWL_NETWORKS` entry."""
        return cls(
            config.get(settings, "CRAWL_HOSTS"),
            config.get(settings, "CRAWL_HOSTS_ONLY"),
            parse_networks(config.get(settings, "CRAWL_NETWORKS")),
            config.get(settings, "USER_AGENT"),
            float(config.get(settings, "DOWNLOAD_TIMEOUT")),
            max_bytes,
            cut,
        )

    def get(self, url: str) -> Fetched:
        """The final response after at most `MAX_REDIRECTS` redirects; raise `FetchError` for anything else."""
        for _ in range(MAX_REDIRECTS + 1):
            fetched = self._get_once(url)
            location = fetched.headers.get("location")
            if fetched.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            return fetched
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

    def _get_once(self, url: str) -> Fetched:
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
        except TimeoutError:
            raise self._late() from None
        except OSError as exc:
            raise FetchError(_why(exc)) from None
        with sock, _Deadline(sock, deadline - time.monotonic()) as timer:
            try:
                status, headers, body = self._exchange(sock, parts, port)
            except (OSError, http.client.HTTPException) as exc:
                timed_out = timer.passed.is_set() or isinstance(exc, TimeoutError)
                raise (self._late() if timed_out else FetchError(_why(exc))) from None
            if timer.passed.is_set():  # the shutdown may read as the end of a body sent without a length
                raise self._late()
        return Fetched(url, status, body, headers)

    def _exchange(self, sock: socket.socket, parts: SplitResult, port: int) -> tuple[int, dict[str, str], bytes]:
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        connection = http.client.HTTPConnection(parts.hostname or "", port)
        connection.sock = sock
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", target, headers={"User-Agent": self.user_agent, "Accept-Encoding": "identity"})
            response = connection.getresponse()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, self._read(response)
        finally:
            connection.close()

    def _late(self) -> FetchError:
        return FetchError(f"took longer than {self.timeout:g} s")

    def _read(self, response: http.client.HTTPResponse) -> bytes:
        chunks, size = [], 0
        while chunk := response.read1(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                if not self.cut:
                    raise FetchError(f"larger than {self.max_bytes:,} bytes")
                chunks.append(chunk[: len(chunk) - (size - self.max_bytes)])
                break
            chunks.append(chunk)
        return b"".join(chunks)


class _Deadline:
    """Shuts a connection down `seconds` from now, through a duplicate of its socket (TLS owns the original).

    `passed` tells afterwards whether it did: a read cut short that way may
    look like a server closing the connection.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.passed = threading.Event()
        self._watchdog = sock.dup()
        self._timer = threading.Timer(max(seconds, 0.0), self._shut_down)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        self._timer.join()
        self._watchdog.close()

    def _shut_down(self) -> None:
        self.passed.set()
        with contextlib.suppress(OSError):
            self._watchdog.shutdown(socket.SHUT_RDWR)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
