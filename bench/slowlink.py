"""A loopback TCP proxy that delays every byte by a fixed time each way: a server "across the network".

In a deployment Redis and MongoDB are on other machines, a fraction of a
millisecond away; on one machine they answer in microseconds, which hides
what each round trip costs. `SlowLink(upstream, delay)` listens on
127.0.0.1 and forwards each connection to `upstream`, every chunk delivered
`delay` seconds after it arrived, in order, in both directions: a round
trip through it costs at least `2 * delay` more. It runs its own event loop
in a thread of the benchmark's process and connects only to `upstream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from types import TracebackType


class SlowLink:
    """`with SlowLink(("127.0.0.1", 6379), 0.00025) as link:` then connect to `link.port` instead."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        if not upstream[0].startswith("127."):
            raise ValueError(f"SlowLink forwards to loopback only, not {upstream[0]}")
        self.upstream = upstream
        self.delay = delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="slowlink", daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def __enter__(self) -> SlowLink:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, scheme: str = "redis", path: str = "/0") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def _listen(self) -> asyncio.base_events.Server:
        return await asyncio.start_server(self._connection, "127.0.0.1", 0)

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()
        await self._server.wait_closed()

    async def _connection(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy `reader` to `writer`, each chunk `delay` seconds after it was read, in order."""
        loop = asyncio.get_running_loop()
        pending: deque[bytes] = deque()
        try:
            while chunk := await reader.read(65536):
                pending.append(chunk)
                # Each callback writes the oldest chunk, so timers firing out of order cannot reorder bytes.
                loop.call_at(loop.time() + self.delay, lambda: writer.write(pending.popleft()))
            await asyncio.sleep(self.delay)
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()
