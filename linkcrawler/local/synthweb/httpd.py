"""The server process: one asyncio HTTP/1.1 server on every site's loopback address.

Run by `python -m linkcrawler.local.synthweb serve` (and so by `WebServer`). It
binds one port on every site's own 127.x.y.z address and on 127.0.0.1 (the
control endpoint only), answers with keep-alive from bytes rendered once at
start, and dispatches by Host header. A request whose Host does not belong
to the address it reached gets 421 and counts as misdirected: a crawler's
DNS override must send each host to its own IP.

It measures what politeness tests and benchmarks need: hits per URL as
requested (`http://host:port/target`, robots.txt included); per host,
requests, the most requests in flight at once, the most open connections
and the shortest gap between two arrivals; and every request in arrival
order (host, target, `time.monotonic()`; up to `MAX_LOGGED`), from which a
benchmark takes a crawl's span and hosts served over time. Concurrency is
only observable when responses take time, hence `delay`: a fixed latency
(seconds before every response), slept per connection without blocking
the others.

Control endpoint, `http://127.0.0.1:<port>/__synthweb__/`: GET stats,
GET requests, POST reset, POST version {"version": 2}, POST behaviour {"host", "path",
"name", "params"}. Behaviours are the hook for fault tests: `BEHAVIOURS`
maps a name to a factory of async functions that get the normal response
bytes and the request target and return what to send instead (None: close
without answering): slow, stalling and hanging servers, redirects (loops), a
calendar-like infinite URL space, gzip bombs, arbitrary bodies (binary
bytes as HTML, broken encodings, malformed robots.txt, huge pages), pages
that fail a few times before they answer (retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import html
import json
import os
import resource
import signal
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from linkcrawler.local.synthweb.generate import generate_web
from linkcrawler.local.synthweb.model import Web
from linkcrawler.local.synthweb.render import Response, render_not_found, responses

CONTROL_HOST = "127.0.0.1"
CONTROL_PREFIX = "/__synthweb__/"
MAX_HEAD = 64 * 1024
BIND_ATTEMPTS = 50
MAX_LOGGED = 200_000
"""Requests kept in the arrival log between resets (some 50 MB): a server left running must not grow without bound."""

Behaviour = Callable[[bytes, str], Awaitable[bytes | None]]
"""Given the normal response bytes and the request target, what to send instead (None: close without answering)."""


def slow(seconds: float = 1.0) -> Behaviour:
    """Answer normally after `seconds`."""

    async def respond(response: bytes, target: str) -> bytes:
        await asyncio.sleep(seconds)
        return response

    return respond


def stall(seconds: float = 0.3) -> Behaviour:
    """Answer normally, after holding the whole server up for `seconds` (a blocking sleep): every request reaching
    it meanwhile is read late, as a busy server or a congested link delays it, while others come on time."""

    async def respond(response: bytes, target: str) -> bytes:
        time.sleep(seconds)
        return response

    return respond


def hang() -> Behaviour:
    """Never answer; the connection stays open until the client gives up."""

    async def respond(response: bytes, target: str) -> None:
        await asyncio.Event().wait()

    return respond


def _message(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: synthweb", "Connection: close",
             f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in headers.items())]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def redirect(location: str, status: int = 302) -> Behaviour:
    """Redirect to `location` (two of these pointing at each other make a loop)."""

    async def respond(response: bytes, target: str) -> bytes:
        return _message(status, {"Location": location, "Content-Type": "text/html"}, b"")

    return respond


def body(text: str = "", content_type: str = "text/html", encoding: str = "latin-1", repeat: int = 1) -> Behaviour:
    """Answer 200 with `text` in `encoding` (latin-1 carries any byte), `repeat` times, labelled `content_type`."""
    payload = text.encode(encoding) * repeat

    async def respond(response: bytes, target: str) -> bytes:
        return _message(200, {"Content-Type": content_type}, payload)

    return respond


def flaky(failures: int = 1, status: int = 503) -> Behaviour:
    """Answer `status` to the first `failures` requests, then normally: a server that recovers, for retries."""
    left = [failures]

    async def respond(response: bytes, target: str) -> bytes:
        if left[0] <= 0:
            return response
        left[0] -= 1
        return _message(status, {"Content-Type": "text/plain"}, b"try again later\n")

    return respond


def gzip_bomb(size: int = 64 * 1024 * 1024) -> Behaviour:
    """HTML that inflates to `size` bytes from a gzip body about a thousand times smaller."""
    head = b"<html><body>" + b" " * (size - 12)
    payload = gzip.compress(head, compresslevel=9)

    async def respond(response: bytes, target: str) -> bytes:
        return _message(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, payload)

    return respond


def calendar() -> Behaviour:
    """An endless calendar: every page links the next month, one more filter parameter and a longer URL.

    The three directions in which an infinite URL space grows: by depth, by
    query parameters and by URL length; a crawler needs a limit on each.
    """

    async def respond(response: bytes, target: str) -> bytes:
        path, _, query = target.partition("?")
        params = [p for p in query.split("&") if p]
        month = next((int(p[6:]) for p in params if p.startswith("month=") and p[6:].isdigit()), 0)
        others = [p for p in params if not p.startswith("month=")]
        links = [
            f"{path}?month={month + 1}",
            f"{path}?{'&'.join([f'month={month}', *others, f'f{len(others)}=1'])}",
            f"{path}?month={month}&pad={'x' * (100 * (month + 1))}",
        ]
        anchors = "".join(f'<a href="{html.escape(link)}">next</a>' for link in links)
        return _message(200, {"Content-Type": "text/html"}, f"<html><body>{anchors}</body></html>".encode())

    return respond


BEHAVIOURS: dict[str, Callable[..., Behaviour]] = {
    "slow": slow, "hang": hang, "redirect": redirect, "body": body, "gzip_bomb": gzip_bomb, "calendar": calendar,
    "flaky": flaky, "stall": stall,
}  # fmt: skip


class _HostStats:
    __slots__ = ("connections", "inflight", "last", "max_concurrent", "max_connections", "min_gap", "requests")

    def __init__(self) -> None:
        self.requests = self.inflight = self.max_concurrent = self.connections = self.max_connections = 0
        self.last: float | None = None
        self.min_gap: float | None = None

    def arrive(self, now: float) -> None:
        self.requests += 1
        if self.last is not None:
            gap = now - self.last
            self.min_gap = gap if self.min_gap is None else min(self.min_gap, gap)
        self.last = now
        self.inflight += 1
        self.max_concurrent = max(self.max_concurrent, self.inflight)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "max_concurrent": self.max_concurrent,
            "max_connections": self.max_connections,
            "min_gap": self.min_gap,
        }


class _Prepared:
    """One response serialized once: keep-alive bytes for the hot path, parts for the rest."""

    __slots__ = ("body", "head", "keep_alive")

    def __init__(self, response: Response) -> None:
        lines = [
            f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
            "Server: synthweb",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        self.head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        self.body = response.body
        self.keep_alive = self.head + b"Connection: keep-alive\r\n\r\n" + self.body

    def bytes(self, keep_alive: bool, head_only: bool) -> bytes:
        if keep_alive and not head_only:
            return self.keep_alive
        connection = b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
        return self.head + connection + (b"" if head_only else self.body)


def _simple(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> _Prepared:
    return _Prepared(Response(status, content_type, text.encode()))


@dataclass(slots=True)
class _Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


def _parse(buffer: bytearray) -> _Request | None:
    """Take one complete request off the front of `buffer`; None when more bytes are needed."""
    while buffer[:2] == b"\r\n":
        del buffer[:2]
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise ValueError("request head too large")
        return None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    total = end + 4 + int(headers.get("content-length") or 0)
    if len(buffer) < total:
        return None
    body = bytes(buffer[end + 4 : total])
    del buffer[:total]
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return _Request(method, target, headers, body, keep_alive)


class _State:
    """Everything the child serves and measures; one per process."""

    def __init__(
        self, seed: int, sites: int, pages: int, port: int, version: int, delay: float, uneven: bool = False,
        planted: bool = False,
    ) -> None:  # fmt: skip
        self.params = (seed, sites, pages)
        self.uneven = uneven
        self.planted = planted
        self.port = port
        self.delay = delay
        self.tables: dict[int, dict[tuple[str, str], _Prepared]] = {}
        self.not_found: dict[str, _Prepared] = {}
        self.behaviours: dict[tuple[str, str], Behaviour] = {}
        self.version = version
        self.web = self.load(version)
        self.ip_host = {site.ip: site.host for site in self.web.sites}
        self.reset()

    def load(self, version: int) -> Web:
        web = generate_web(*self.params, port=self.port, version=version, uneven=self.uneven, planted=self.planted)
        if version not in self.tables:
            self.tables[version] = {key: _Prepared(r) for key, r in responses(web).items()}
            self.not_found = {site.host: _Prepared(render_not_found(site)) for site in web.sites}
        return web

    def reset(self) -> None:
        """Forget all measurements; connections open now stay counted as open."""
        old = getattr(self, "stats", {})
        self.hits: Counter[str] = Counter()
        self.logged: list[tuple[str, str, float]] = []
        self.stats = {host: _HostStats() for host in self.ip_host.values()}
        for host, stats in old.items():
            self.stats[host].connections = self.stats[host].max_connections = stats.connections
        self.misdirected = 0

    def site_response(self, request: _Request, host: str) -> bytes:
        """The response to a site request on `host`'s address (stats already counted)."""
        if request.method not in ("GET", "HEAD"):
            return _simple(405, "method not allowed\n").bytes(request.keep_alive, False)
        path = request.target.split("?", 1)[0].split("#", 1)[0]
        prepared = self.tables[self.version].get((host, path)) or self.not_found[host]
        return prepared.bytes(request.keep_alive, request.method == "HEAD")

    def control_response(self, request: _Request) -> tuple[bytes, bool]:
        """(response, keep the connection open) for a control request."""
        command = request.target.removeprefix(CONTROL_PREFIX)
        try:
            payload = json.loads(request.body) if request.body else {}
            result = self.control(request.method, command, payload)
        except (KeyError, TypeError, ValueError) as exc:
            return _simple(400, f"{type(exc).__name__}: {exc}\n").bytes(False, False), False
        return _simple(200, json.dumps(result), "application/json").bytes(request.keep_alive, False), request.keep_alive

    def control(self, method: str, command: str, payload: dict[str, Any]) -> Any:
        if (method, command) == ("GET", "stats"):
            hosts = {host: stats.as_dict() for host, stats in self.stats.items()}
            return {"hits": dict(self.hits), "hosts": hosts, "misdirected": self.misdirected, "version": self.version}
        if (method, command) == ("GET", "requests"):
            return {"requests": self.logged}
        if (method, command) == ("POST", "reset"):
            self.reset()
            return {}
        if (method, command) == ("POST", "version"):
            version = int(payload["version"])
            self.load(version)
            self.version = version
            return {"version": version}
        if (method, command) == ("POST", "behaviour"):
            key = (payload["host"], payload["path"])
            if payload.get("name") is None:
                self.behaviours.pop(key, None)
            else:
                self.behaviours[key] = BEHAVIOURS[payload["name"]](**payload.get("params", {}))
            return {}
        raise KeyError(f"no control command {method} {command}")


class _Protocol(asyncio.Protocol):
    """One connection, to a site address (`host` set) or to the control address."""

    def __init__(self, state: _State, host: str | None) -> None:
        self.state = state
        self.host = host
        self.buffer = bytearray()
        self.busy = False
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.host:
            stats = self.state.stats[self.host]
            stats.connections += 1
            stats.max_connections = max(stats.max_connections, stats.connections)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.host:
            stats = self.state.stats[self.host]
            stats.connections = max(0, stats.connections - 1)
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self.process()

    def process(self) -> None:
        while self.transport is not None and not self.busy:
            try:
                request = _parse(self.buffer)
            except ValueError:
                self.transport.write(_simple(400, "bad request\n").bytes(False, False))
                self.transport.close()
                return
            if request is None:
                return
            if self.host is None:
                self.send(*self.state.control_response(request))
                continue
            host = request.headers.get("host", self.host).rsplit(":", 1)[0].lower()
            if host != self.host:
                self.state.misdirected += 1
                self.send(_simple(421, f"{host} is not served on this address\n").bytes(False, False), False)
                return
            self.state.hits[f"http://{host}:{self.state.port}{request.target}"] += 1
            stats = self.state.stats[host]
            now = time.monotonic()
            stats.arrive(now)
            if len(self.state.logged) < MAX_LOGGED:
                self.state.logged.append((host, request.target, now))
            response = self.state.site_response(request, host)
            path = request.target.split("?", 1)[0]
            behaviour = self.state.behaviours.get((host, path))
            if behaviour is None and self.state.delay <= 0:
                stats.inflight -= 1
                self.send(response, request.keep_alive)
            else:
                self.busy = True
                later = self.later(response, request, behaviour, stats)
                self.task = asyncio.get_running_loop().create_task(later)

    async def later(self, response: bytes, request: _Request, behaviour: Behaviour | None, stats: _HostStats) -> None:
        keep_alive = request.keep_alive
        try:
            if self.state.delay > 0:
                await asyncio.sleep(self.state.delay)
            reply = await behaviour(response, request.target) if behaviour is not None else response
        finally:
            stats.inflight -= 1
        self.busy = False
        self.task = None
        if reply is None:
            if self.transport is not None:
                self.transport.close()
            return
        self.send(reply, keep_alive)
        self.process()

    def send(self, data: bytes, keep_alive: bool) -> None:
        if self.transport is None:
            return
        self.transport.write(data)
        if not keep_alive:
            self.transport.close()
            self.transport = None


def _listen(ip: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def bind_all(ips: list[str], port: int = 0) -> tuple[int, list[socket.socket]]:
    """Listening sockets on one port for every address in `ips`; `port=0` finds one free on all."""
    error: OSError | None = None
    for _ in range(BIND_ATTEMPTS if port == 0 else 1):
        sockets: list[socket.socket] = []
        try:
            sockets.append(_listen(ips[0], port))
            chosen = sockets[0].getsockname()[1]
            sockets += [_listen(ip, chosen) for ip in ips[1:]]
            return chosen, sockets
        except OSError as exc:
            error = exc
            for sock in sockets:
                sock.close()
    raise OSError(f"cannot listen on port {port or 'any'} of {len(ips)} loopback addresses: {error}")


async def serve(
    seed: int, sites: int, pages: int, *, version: int = 1, port: int = 0, delay: float = 0.0,
    seconds: float | None = None, parent_pid: int | None = None, ready: Callable[[Web], None] = lambda web: None,
    uneven: bool = False,
    planted: bool = False,
) -> None:  # fmt: skip
    """Serve until SIGINT/SIGTERM, `seconds` elapse or `parent_pid` is no longer our parent."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    web = generate_web(seed, sites, pages, version=version, uneven=uneven, planted=planted)
    ips = [CONTROL_HOST] + [site.ip for site in web.sites]
    port, sockets = bind_all(ips, port)
    state = _State(seed, sites, pages, port, version, delay, uneven, planted)
    loop = asyncio.get_running_loop()
    servers = []
    for ip, sock in zip(ips, sockets, strict=True):
        host = state.ip_host.get(ip)
        servers.append(await loop.create_server(lambda host=host: _Protocol(state, host), sock=sock))
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    ready(state.web)
    deadline = None if seconds is None else loop.time() + seconds
    while not stopped.is_set():
        if parent_pid is not None and os.getppid() != parent_pid:
            break
        if deadline is not None and loop.time() >= deadline:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopped.wait(), 0.25)
    for server in servers:
        server.close()
    for task in asyncio.all_tasks() - {asyncio.current_task()}:
        task.cancel()
