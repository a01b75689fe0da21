"""A loopback server that answers with the bytes a test scripts and records every request line it was sent.

The synthetic web answers as a web server does; the network policy's tests
need what it never sends: a proxy that must not be asked anything, a status
line carrying terminal escapes, headers dripped one byte at a time. It binds
127.0.0.1 only and never connects anywhere itself.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

Answer = Callable[[str, socket.socket], None]
"""Given the request line, writes the response to the client's socket."""

HEAD_LIMIT = 64 * 1024


def page(request_line: str, client: socket.socket) -> None:
    """A small HTML page, whatever was asked: what a proxy that fetched the target would hand back."""
    body = b'<html><body><a href="http://fetched-through-the-proxy.example/">x</a></body></html>'
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    client.sendall(head.encode() + body)


def raw(response: bytes) -> Answer:
    """Exactly `response`, then the connection closes."""
    return lambda request_line, client: client.sendall(response)


def drip(response: bytes, interval: float = 0.1, limit: float = 15.0) -> Answer:
    """`response` one byte every `interval` seconds, until the client leaves or `limit` seconds have passed."""

    def answer(request_line: str, client: socket.socket) -> None:
        stop = time.monotonic() + limit
        for byte in response:
            if time.monotonic() > stop:
                return
            try:
                client.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(interval)

    return answer


class ScriptedServer:
    """`with ScriptedServer(answers) as server:` answers `answers[path]`, else `answers[""]`, else closes."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.requests: list[str] = []
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handler(self) -> type[socketserver.BaseRequestHandler]:
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(5)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
                        chunk = self.request.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                except OSError:
                    return
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                server.requests.append(line)
                path = urlsplit(line.split(" ")[1]).path if line.count(" ") >= 2 else ""
                answer = server.answers.get(path) or server.answers.get("")
                if answer is not None:
                    answer(line, self.request)

        return Handler
