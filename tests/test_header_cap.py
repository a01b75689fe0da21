"""A server dribbling one folded header of tens of MB: the download fails at `DOWNLOAD_MAX_HEADER_BYTES`, at once.

Twisted caps a header line at 16 KiB, but a header folded over continuation
lines is one header however long; before the cap, a worker took it in
until `DOWNLOAD_TIMEOUT`. Checked with a real worker crawling a small
synthetic web and one such server: the page is recorded with the cap as its
error, the server sees the connection closed after little more than the cap
(not the timeout), and the rest of the web is crawled.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from linkcrawler.local.synthweb import WebServer, generate_web
from tests.conftest import local_crawl

pytestmark = pytest.mark.slow

FOLDED_BYTES = 32 * 1024 * 1024
CHUNK = (b" " + b"x" * 1021 + b"\r\n") * 64  # 64 KiB of continuation lines
SECONDS_PER_CHUNK = 0.02  # 3 MB/s: the whole header would take about ten seconds
CONNECTION_SECONDS = 15.0
CAP = 256 * 1024
HOST = "folded.example"


class FoldedHeaderServer:
    """Answers every page with `FOLDED_BYTES` of one folded header, dribbled; records the bytes each took."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://{HOST}:{self.listener.getsockname()[1]}/folded"
        self.sent: list[int] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def __enter__(self) -> FoldedHeaderServer:
        self.listener.settimeout(0.2)
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CONNECTION_SECONDS + 5)
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._answer, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _answer(self, connection: socket.socket) -> None:
        sent = 0
        deadline = time.monotonic() + CONNECTION_SECONDS
        with connection:
            connection.settimeout(5)
            try:
                if connection.recv(65536).startswith(b"GET /robots.txt "):
                    connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Folded: start\r\n")
                while sent < FOLDED_BYTES and time.monotonic() < deadline and not self._stop.is_set():
                    connection.sendall(CHUNK)
                    sent += len(CHUNK)
                    time.sleep(SECONDS_PER_CHUNK)
                connection.sendall(b"Content-Length: 4\r\n\r\nbody")
            except OSError:
                pass
        self.sent.append(sent)


@pytest.fixture
def folded() -> Iterator[FoldedHeaderServer]:
    with FoldedHeaderServer() as server:
        yield server


def test_a_huge_folded_header_fails_at_the_cap_and_the_worker_goes_on(redis_url, redis_client, folded):
    web = generate_web(seed=3, sites=3, pages_per_site=4)
    settings = {"DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 0, "DOWNLOAD_MAX_HEADER_BYTES": CAP}
    with WebServer(web) as server, local_crawl(redis_url, "headers") as crawl:
        hosts = {**server.hosts, HOST: "127.0.0.1"}
        crawl.crawl([*server.seeds, folded.url], hosts, workers=1, timeout=120, settings=settings)
        pages = {doc["_id"]: doc for doc in crawl.store.pages.find()}
        logs = "\n".join(path.read_text(errors="replace") for path in crawl.workdir.glob("worker-*.log"))
    assert pages[folded.url]["error"] == (
        f"ResponseHeadersTooLarge: the response's headers passed {CAP:,} bytes (DOWNLOAD_MAX_HEADER_BYTES)"
    )
    assert len(folded.sent) == 1 and folded.sent[0] < 4 * CAP  # closed at the cap, not at the timeout
    assert logs.count(f"{folded.url}: the response's headers passed") == 1
    assert "'downloader/response_headers_too_large': 1" in logs
    crawled = [url for url, page in pages.items() if url != folded.url and page.get("status") == 200]
    assert len(crawled) >= 3
