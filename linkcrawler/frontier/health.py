"""Liveness probe for a worker container: `python -m linkcrawler.frontier.health [--max-age SECONDS]`.

Kubernetes (livenessProbe) and compose (healthcheck) run it inside the
worker's container. It passes while a worker on this host (a pod or a
container has a host name of its own) has written a heartbeat to
`backlinks:workers` (in the Redis of `REDIS_URL`, read from the environment
as the worker reads it) within `--max-age` seconds, and fails when the heartbeat
went stale: a worker whose reactor hangs stops beating, and restarting it is
the cure. A Redis that cannot be reached does not fail the probe: restarting
every worker cannot bring Redis back, and the workers' own errors say what is
wrong.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Iterable

from linkcrawler import config
from linkcrawler.errors import UserError, mask_uri
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.workers import WorkerRegistry, WorkerState

DEFAULT_MAX_AGE = 60.0


def latest_heartbeat(states: Iterable[WorkerState], host: str) -> float | None:
    """The newest heartbeat of a live worker on `host` (worker ids are `host:pid`), if any."""
    beats = [s.heartbeat for s in states if s.live and s.worker.rpartition(":")[0] == host]
    return max(beats, default=None)


def check(
    redis_url: str, host: str, max_age: float, cluster: bool = config.default("REDIS_CLUSTER")
) -> tuple[bool, str]:
    """(healthy, what to report) for the worker on `host`; `cluster` as `REDIS_CLUSTER` says (see `connect_redis`)."""
    try:
        server = connect_redis(redis_url, timeout=3.0, cluster=cluster)
    except UserError as exc:
        return True, f"not judged: {exc}"
    registry = WorkerRegistry(server, keys.spider_key(keys.WORKERS_KEY, keys.SPIDER_NAME))
    beat = latest_heartbeat(registry.states(), host)
    if beat is None:
        return False, f"no live worker on {host} in {registry.key} at {mask_uri(redis_url)}"
    age = time.time() - beat
    if age > max_age:
        return False, f"the worker on {host} last beat {age:.0f} s ago (more than {max_age:g} s)"
    return True, f"the worker on {host} beat {age:.1f} s ago"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linkcrawler.frontier.health", description=__doc__.splitlines()[0])
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE, help="seconds a heartbeat stays fresh")
    args = parser.parse_args(argv)
    settings = config.project_settings()
    healthy, message = check(config.get(settings, "REDIS_URL"), socket.gethostname(), args.max_age,
                             config.get(settings, "REDIS_CLUSTER"))  # fmt: skip
    if healthy:
        print(f"linkcrawler health: ok: {message}")
        return 0
    print(f"linkcrawler health: unhealthy: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
