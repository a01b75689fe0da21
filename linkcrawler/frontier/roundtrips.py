"""Round trips to Redis: script calls sent in one pipeline, the outbox of calls nobody waits on, and pipelines
sent now and read later.

A round trip costs a worker about 0.3 ms on the two-core bench machine,
against 4 ms of CPU a page: the frontier sends what it can together, and
its pop does not wait for its reply (`Sent`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from redis.exceptions import NoScriptError, ResponseError

from linkcrawler.internals.redis_private import socket_of

Call = tuple[Any, list[str], list[Any]]
"""A registered script's call: (script, keys, args)."""


def run_scripts(server: Any, calls: list[Call]) -> list[Any]:
    """Run registered scripts `(script, keys, args)` in one pipeline; their replies in order.

    The pipeline sends EVALSHA alone (a pipeline given the scripts
    themselves first asks the server whether it has them: one more round
    trip). A node that lacks a script (a server restarted, a replica just
    promoted) answers NOSCRIPT, and that call, which did not run, is run
    again on its own, which loads it.
    """
    if len(calls) == 1:
        script, script_keys, args = calls[0]
        return [script(keys=script_keys, args=args)]
    with server.pipeline(transaction=False) as pipe:
        for script, script_keys, args in calls:
            pipe.evalsha(script.sha, len(script_keys), *script_keys, *args)
        return _rerun_unknown(calls, pipe.execute(raise_on_error=False))


def _rerun_unknown(calls: list[Call], replies: list[Any]) -> list[Any]:
    """Run again on its own each call its node answered NOSCRIPT to (which loads the script); raise any other
    error."""
    for index, reply in enumerate(replies):
        if isinstance(reply, NoScriptError):
            script, script_keys, args = calls[index]
            replies[index] = script(keys=script_keys, args=args)
        elif isinstance(reply, Exception):
            raise reply
    return replies


@dataclass
class Outbox:
    """Script calls nobody waits on: each rides with the next round trip the frontier makes, in its pipeline.

    A page's new links and the politeness slots its download freed need
    no answer before the worker's next pop: carried by it, they cost no
    round trip of their own (on the two-core bench machine a worker waits
    about 0.3 ms for one, against 4 ms of CPU a page). Carried calls go
    first in the pipeline, so a pop sees the sites they queued or freed.
    """

    server: Any
    _waiting: list[tuple[list[Call], Callable[[list[Any]], None]]] = field(default_factory=list)
    _connection: Any = None

    def add(self, calls: list[Call], handle: Callable[[list[Any]], None] = lambda replies: None) -> None:
        """Carry `calls`; `handle` gets their replies once they are sent."""
        if calls:
            self._waiting.append((calls, handle))

    def run(self, calls: list[Call]) -> list[Any]:
        """Send what is carried, then `calls`, in one pipeline; the replies of `calls`.

        If Redis fails, what was carried stays carried, for the next round
        trip: a page's links are never dropped on the way.
        """
        carried, self._waiting = self._waiting, []
        if not carried and not calls:
            return []
        try:
            replies = run_scripts(self.server, [call for group, _ in carried for call in group] + calls)
        except BaseException:
            self._waiting[:0] = carried
            raise
        return self._deliver(carried, replies)

    def can_send(self) -> bool:
        """Whether `send` works with this client: one server's (a cluster client has no connection to keep)."""
        return isinstance(self.server, Redis)

    def send(self, calls: list[Call]) -> Sent:
        """Write what is carried, then `calls`, as one pipeline on the outbox's own connection, and return
        without waiting for the replies (`Sent.replies`).

        If the write fails, what was carried stays carried and the error
        (a `redis.ConnectionError`) is raised.
        """
        carried, self._waiting = self._waiting, []
        every = [call for group, _ in carried for call in group] + calls
        if self._connection is None:
            self._connection = self.server.connection_pool.make_connection()
        connection = self._connection
        try:
            commands = [("EVALSHA", script.sha, len(script_keys), *script_keys, *args)
                        for script, script_keys, args in every]  # fmt: skip
            connection.send_packed_command(connection.pack_commands(commands))
        except BaseException:
            connection.disconnect()
            self._waiting[:0] = carried
            raise
        return Sent(self, connection, carried, every)

    def close(self) -> None:
        """Close the connection `send` writes on."""
        if self._connection is not None:
            self._connection.disconnect()

    def _deliver(self, carried: list[tuple[list[Call], Callable[[list[Any]], None]]], replies: list[Any]) -> list[Any]:
        """Hand the carried calls' replies to their handlers; the rest of `replies`."""
        start = 0
        for group, handle in carried:
            handle(replies[start : start + len(group)])
            start += len(group)
        return replies[start:]


class Sent:
    """A pipeline written by `Outbox.send`, whose replies are read once they are in: meanwhile the worker parses
    pages instead of waiting on Redis (a pop's script runs for 0.15-0.2 ms)."""

    def __init__(self, outbox: Outbox, connection: Any, carried: list[tuple[list[Call], Callable[[list[Any]], None]]],
                 calls: list[Call]) -> None:  # fmt: skip
        self.outbox = outbox
        self.connection = connection
        self.carried = carried
        self.calls = calls

    def fileno(self) -> int:
        """The socket the replies come on, for a reactor to watch; -1 once it is closed."""
        sock = socket_of(self.connection)
        return sock.fileno() if sock is not None else -1

    def replies(self) -> list[Any]:
        """Read the replies, waiting for any not in yet, and hand the carried calls theirs; the replies of the
        calls given to `send`.

        A call whose script the server did not know is run again on its
        own. If the connection fails, it is closed, what was carried goes
        back to the outbox, and the error is raised: the
        calls may or may not have run, as with any lost reply (redis-py raises
        its `ConnectionError` or `TimeoutError`).
        """
        replies: list[Any] = []
        try:
            for _ in self.calls:
                try:
                    replies.append(self.connection.read_response())
                except ResponseError as error:
                    replies.append(error)
            replies = _rerun_unknown(self.calls, replies)
        except BaseException:
            self.connection.disconnect()  # a reply left unread would be taken for the next pipeline's
            self.outbox._waiting[:0] = self.carried
            raise
        return self.outbox._deliver(self.carried, replies)
