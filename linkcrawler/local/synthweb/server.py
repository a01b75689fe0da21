"""`WebServer`: a synthetic web served by a child process, for tests, the demo and benchmarks.

`WebServer(web)` starts `python -m linkcrawler.local.synthweb serve` (see
`httpd`) as a child process, so a crawl measured against it does not share
the caller's GIL; it waits for the child to report its port and stops it
on context exit: SIGTERM, then SIGKILL after a grace period. The child also
exits by itself when its parent dies, so a crashed test leaves no server
behind. The child regenerates the web from its parameters (seed, sites,
pages per site, version): the web must come from `generate_web`.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkcrawler.local.synthweb.generate import generate_web
from linkcrawler.local.synthweb.httpd import CONTROL_HOST, CONTROL_PREFIX
from linkcrawler.local.synthweb.model import Web


class WebServer:
    """A synthetic web served by a child process; a context manager.

    `port=0` picks a port free on every needed address. `server.web` is the
    web at that port and the served version: use it for `ground_truth` and
    `fetchable_pages`.
    """

    def __init__(self, web: Web, *, port: int = 0, delay: float = 0.0, startup_timeout: float = 60.0) -> None:
        self.port = port
        self.delay = delay
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._web = web
        self._version = web.version
        self._webs: dict[int, Web] = {}
        self._log: Any = None

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> WebServer:
        web = self._web
        command = [
            sys.executable, "-m", "linkcrawler.local.synthweb", "serve", "--json",
            "--seed", str(web.seed), "--sites", str(len(web.sites) - web.planted_sites),
            "--pages", str(web.pages_per_site),
            "--version", str(web.version), "--port", str(self.port), "--delay", str(self.delay),
            "--parent-pid", str(os.getpid()), *(["--uneven"] if web.uneven else []),
            *(["--planted"] if web.planted else []),
        ]  # fmt: skip
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the child, closed in stop)
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._log, env=env
        )
        atexit.register(self.stop)
        try:
            info = json.loads(self._read_ready_line())
        except BaseException:
            self.stop()
            raise
        self.port = info["port"]
        return self

    def stop(self) -> None:
        """Stop the child: SIGTERM, SIGKILL after 5 s. Safe to call twice."""
        atexit.unregister(self.stop)
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def web(self) -> Web:
        """The served web: the current version, on the served port."""
        if self._version not in self._webs:
            base = self._web
            sites = len(base.sites) - base.planted_sites
            web = generate_web(
                base.seed, sites, base.pages_per_site, self.port, self._version, base.uneven, base.planted
            )
            self._webs[self._version] = web
        return self._webs[self._version]

    @property
    def hosts(self) -> dict[str, str]:
        return self.web.hosts

    @property
    def seeds(self) -> list[str]:
        return self.web.seeds

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def hits(self) -> dict[str, int]:
        """Requests per URL as requested (`http://host:port/path?query`), robots.txt included."""
        return self._control("GET", "stats")["hits"]

    def host_stats(self) -> dict[str, dict[str, Any]]:
        """Per host: requests, max_concurrent, max_connections, min_gap (seconds or None)."""
        return self._control("GET", "stats")["hosts"]

    def requests(self) -> list[tuple[str, str, float]]:
        """Every site request since the last reset as the server saw it: (host, target, arrival).

        Arrivals are the server's `time.monotonic()` (one clock for every
        process on the machine): spans and per-host gaps measured here are
        what a site would see, whatever the crawler believes it sent.
        """
        return [tuple(entry) for entry in self._control("GET", "requests")["requests"]]

    def misdirected(self) -> int:
        """Requests whose Host header named a site other than the address they reached."""
        return self._control("GET", "stats")["misdirected"]

    def reset_stats(self) -> None:
        self._control("POST", "reset")

    def set_version(self, version: int) -> None:
        """Serve version 1 or 2 of the web from now on, on the same addresses and port."""
        self._control("POST", "version", {"version": version})
        self._version = version

    def set_behaviour(self, url: str, name: str | None, **params: Any) -> None:
        """Make `url` (host and path; query ignored) behave as `BEHAVIOURS[name](**params)`; None resets."""
        parts = urlsplit(url)
        payload = {"host": parts.hostname, "path": parts.path or "/", "name": name, "params": params}
        self._control("POST", "behaviour", payload)

    def _control(self, method: str, command: str, payload: dict[str, Any] | None = None) -> Any:
        if self.process is None:
            raise RuntimeError("the synthetic web server is not running")
        connection = http.client.HTTPConnection(CONTROL_HOST, self.port, timeout=30)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            headers = {"Content-Type": "application/json"}
            connection.request(method, CONTROL_PREFIX + command, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"synthweb control {command}: {response.status} {data.decode(errors='replace')}")
        return json.loads(data)

    def _read_ready_line(self) -> bytes:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"synthweb server did not start within {self.startup_timeout:.0f} s")
                if selector.select(min(remaining, 0.5)):
                    chunk = os.read(self.process.stdout.fileno(), 65536)
                    if not chunk:
                        raise RuntimeError(f"synthweb server exited during startup:\n{self._log_tail()}")
                    buffer += chunk
        return buffer.split(b"\n", 1)[0]

    def _log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read()[-4000:].decode(errors="replace")
