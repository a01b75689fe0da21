"""Round trips to Redis: script calls sent in one pipeline, and the outbox of calls nobody waits on.

A round trip costs a worker about 0.3 ms on the two-core bench machine,
against 4 ms of CPU a page: the frontier sends what it can together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from redis.exceptions import NoScriptError


class Call(NamedTuple):
    """One call of a registered script (`linkcrawler.frontier.scripts`)."""

    script: Any
    keys: list[str]
    args: list[Any]


def run_scripts(server: Any, calls: list[Call]) -> list[Any]:
    """Run registered scripts in one pipeline; their replies in order.

    The pipeline sends EVALSHA alone (a pipeline given the scripts
    themselves first asks the server whether it has them: one more round
    trip). A node that lacks a script (a server restarted, a replica just
    promoted) answers NOSCRIPT, and that call, which did not run, is run
    again on its own, which loads it.
    """
    if len(calls) == 1:
        return [_run(calls[0])]
    with server.pipeline(transaction=False) as pipe:
        for call in calls:
            pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
        replies = pipe.execute(raise_on_error=False)
    for index, reply in enumerate(replies):
        if isinstance(reply, NoScriptError):
            replies[index] = _run(calls[index])
        elif isinstance(reply, Exception):
            raise reply
    return replies


def _run(call: Call) -> Any:
    """One call on its own: redis-py's `Script` sends EVALSHA, and the script itself on NOSCRIPT."""
    return call.script(keys=call.keys, args=call.args)


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
        start = 0
        for group, handle in carried:
            handle(replies[start : start + len(group)])
            start += len(group)
        return replies[start:]
