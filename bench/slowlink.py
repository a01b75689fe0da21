"""A loopback TCP proxy that delays every byte by a fixed time each way: a server "across the network".

In a deployment Redis and MongoDB are on other machines, a fraction of a
millisecond away; on one machine they answer in microseconds, which hides
what each round trip costs. `SlowLink(upstream, delay)` listens on
127.0.0.1 and forwards each connection to `upstream`, every chunk delivered
`delay` seconds after it arrived, in order, in both directions: a round
trip through it costs at least `2 * delay` more. It connects only to
`upstream`.

It runs its event loop in a process of its own (spawned: a script that
opens a link guards its main code, as `bench/run.py` does): a thread of
the benchmark's process would wait for the interpreter lock while the
benchmark reads its meters (2 ms every 0.1 s), and trade it with a client
in that process (`ping_ms`) on every exchange. Delays of a fraction of a
millisecond need timers finer than asyncio's default: its epoll selector
sleeps whole milliseconds (a 0.25 ms delay would cost about 1.3 ms each
way, a PING through the link 2.8 ms), so the loop waits in `select`, which
takes microseconds, with no timer slack (Linux lets a sleeping thread wake
up to 50 us late). What is left, the two extra hops through Python and the
timers' wake-ups, costs a round trip 0.2 to 0.4 ms more than `2 * delay`
on a 2-core machine; `delay` may be changed while the link runs, so a
caller can take that off (`bench.crawl.calibrate`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import selectors
import statistics
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

PR_SET_TIMERSLACK = 29
START_SECONDS = 30.0


class SlowLink:
    """`with SlowLink(("127.0.0.1", 6379), 0.00025) as link:` then connect to `link.port` instead.

    `round_trips` counts the exchanges clients began through the link: on
    each connection, the first chunk from the client and each one after
    the link delivered it an answer. A pipeline of commands is one, as the
    client waits once for all its replies.
    """

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        if not upstream[0].startswith("127."):
            raise ValueError(f"SlowLink forwards to loopback only, not {upstream[0]}")
        self.upstream = upstream
        self.port = 0
        context = multiprocessing.get_context("spawn")
        self._delay = context.Value("d", delay, lock=False)
        self._round_trips = context.Value("q", 0, lock=False)
        self._ports, child = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(upstream, self._delay, self._round_trips, child), name="slowlink", daemon=True
        )

    @property
    def delay(self) -> float:
        return self._delay.value

    @delay.setter
    def delay(self, seconds: float) -> None:
        self._delay.value = seconds

    @property
    def round_trips(self) -> int:
        return self._round_trips.value

    def __enter__(self) -> SlowLink:
        self._process.start()
        if not self._ports.poll(START_SECONDS):
            self._process.terminate()
            raise RuntimeError(f"the slow link to {self.upstream} did not start within {START_SECONDS:.0f} s")
        self.port = self._ports.recv()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Its connections are cut, as a network that goes away would: the clients are done with it by now."""
        self._process.terminate()
        self._process.join(10)
        self._ports.close()

    def url(self, scheme: str = "redis", path: str = "/0") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"


def _serve(upstream: tuple[str, int], delay: Any, round_trips: Any, ports: Connection) -> None:
    """The link's process: listen, tell the parent the port, forward until terminated."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the platform's own timer precision
        ctypes.CDLL(None).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    relay = _Relay(upstream, delay, round_trips)
    server = loop.run_until_complete(asyncio.start_server(relay.connection, "127.0.0.1", 0))
    ports.send(server.sockets[0].getsockname()[1])
    ports.close()
    loop.run_forever()


class _Relay:
    def __init__(self, upstream: tuple[str, int], delay: Any, round_trips: Any) -> None:
        self.upstream = upstream
        self.delay = delay
        self.round_trips = round_trips

    async def connection(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        answered = True

        def asked() -> None:
            nonlocal answered
            self.round_trips.value += answered
            answered = False

        def answered_now() -> None:
            nonlocal answered
            answered = True

        await asyncio.gather(
            self._pipe(client_reader, server_writer, arrived=asked),
            self._pipe(server_reader, client_writer, delivered=answered_now),
            return_exceptions=True,
        )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        arrived: Callable[[], None] = lambda: None,
        delivered: Callable[[], None] = lambda: None,
    ) -> None:
        """Copy `reader` to `writer`, each chunk `delay` seconds after it was read, in order."""
        loop = asyncio.get_running_loop()
        pending: deque[bytes] = deque()

        def deliver() -> None:
            writer.write(pending.popleft())
            delivered()

        try:
            while chunk := await reader.read(65536):
                arrived()
                pending.append(chunk)
                # Each callback writes the oldest chunk, so timers firing out of order cannot reorder bytes.
                loop.call_at(loop.time() + self.delay.value, deliver)
            await asyncio.sleep(self.delay.value)
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()


def ping_ms(client: Any, pings: int = 200) -> float:
    """The median time of a Redis PING from `client`, in milliseconds: how far its server is, the link included."""
    return round(1000 * statistics.median(_ping(client) for _ in range(pings)), 3)


def added_ms(direct: Any, through: Any, pings: int = 200) -> float:
    """What the link adds to a Redis PING, in milliseconds: the median difference of PINGs sent in turns directly
    and through it, so that the machine's load, which changes from one moment to the next, weighs on both alike
    (medians taken apart moved the figure by 0.2 ms from one measure to the next on a shared machine)."""
    return round(1000 * statistics.median(_ping(through) - _ping(direct) for _ in range(pings)), 3)


def _ping(client: Any) -> float:
    started = time.perf_counter()
    client.ping()
    return time.perf_counter() - started
