"""The one way to get a Redis client: from a URL, checked, with errors a user can act on.

Clients reconnect on their own: a command that meets a dropped connection
(Redis restarting, a failover, a network blip) is retried with exponential
backoff and jitter for up to `REDIS_RETRIES` attempts (default 10: about
half a minute of outage) before the error reaches the caller. The
worker pauses meanwhile instead of failing its requests.

With `REDIS_CLUSTER` on, every client is redis-py's cluster client,
`REDIS_URL` naming one startup node: it learns the slot map from that node,
follows redirections (MOVED, ASK) and, through the same retry policy, rides
out a node restart or a failover to a replica by refreshing the map. Every
component gets its client here (`redis_from_settings`, or `connect_redis`
for a URL and the options given), so the one setting switches them all;
scrapy-redis's own clients get both settings through `REDIS_PARAMS`
(`SharedRedis`, see settings/base.py).
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from linkcrawler import config
from linkcrawler.errors import UserError, mask_uri

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


Client = redis.Redis | RedisCluster
"""What the frontier talks to: one server's client, or a cluster's (`REDIS_CLUSTER`)."""


class Connections:
    """Counts the connections a client opens: the count changes when the client reconnects.

    A reconnect may mean the server restarted or failed over and lost its
    last writes, so what a worker remembers of Redis must be learnt again
    (see `linkcrawler.frontier.scheduler.Scheduler`).
    """

    def __init__(self) -> None:
        self.made = 0

    def connected(self, connection: Any) -> None:
        """A cluster client's connect hook (it runs its own handshake before the hook)."""
        self.made += 1

    def connected_to_server(self, connection: Any) -> None:
        """A server client's connect hook: the handshake it replaces, then the count."""
        connection.on_connect()
        self.made += 1


def redis_from_settings(settings: Any, url: str | None = None, connections: Connections | None = None) -> Client:
    """The shared Redis that `url` or else `REDIS_URL` names, retrying `REDIS_RETRIES` times, checked once; a
    cluster client with `REDIS_CLUSTER`; its connections counted by `connections`."""
    return connect_redis(
        url or config.get(settings, "REDIS_URL"),
        retries=config.get(settings, "REDIS_RETRIES"),
        cluster=config.get(settings, "REDIS_CLUSTER"),
        connections=connections,
    )


def reconnect_policy(retries: int) -> Retry:
    return Retry(ExponentialWithJitterBackoff(base=0.2, cap=5.0), retries)


class ResilientRedis(redis.Redis):
    """A client of one server that retries through connection errors, as its `retry` policy says."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ResilientRedis:
        kwargs.setdefault("retry_on_error", [redis.ConnectionError, redis.TimeoutError])
        kwargs.pop("retry_on_timeout", None)  # scrapy-redis's default; covered by retry_on_error
        return super().from_url(url, **kwargs)


class SharedRedis:
    """scrapy-redis's client class (`REDIS_PARAMS["redis_cls"]`): its clients are ours, `REDIS_CLUSTER` and
    `REDIS_RETRIES` given in `REDIS_PARAMS` (scrapy-redis passes no other setting)."""

    @staticmethod
    def from_url(url: str, *, cluster: bool = config.default("REDIS_CLUSTER"),
                 retries: int = config.default("REDIS_RETRIES"), **_: Any) -> Client:  # fmt: skip
        return connect_redis(url, check=False, retries=retries, cluster=cluster)


def connect_redis(url: str, *, check: bool = True, timeout: float = 5.0,
                  retries: int = config.default("REDIS_RETRIES"), cluster: bool = config.default("REDIS_CLUSTER"),
                  connections: Connections | None = None) -> Client:  # fmt: skip
    """Build a client for `url`; with `check`, ping it once so a dead server fails here, in one line.

    TLS (`rediss://`, with `ssl_cert_reqs`, `ssl_ca_certs`... as query
    parameters) and passwords (`redis://user:pw@host`) come from the URL
    itself, the way redis-py reads it. `cluster` makes it a cluster client
    with `url` as its startup node; the check then also refuses a server
    that is not what `REDIS_CLUSTER` says. `connections`, if given, counts
    the connections it opens.
    """
    if not url.startswith(REDIS_SCHEMES):
        raise UserError(
            f"REDIS_URL {mask_uri(url)!r} has an unsupported scheme; "
            "use redis://HOST:PORT/DB, rediss:// for TLS or unix:///path.sock"
        )
    if check:
        _check(url, timeout, cluster)
    options = {"socket_timeout": 30, "socket_connect_timeout": timeout, "retry": reconnect_policy(retries)}
    try:
        if cluster:
            hook = connections.connected if connections is not None else None
            return RedisCluster.from_url(url, redis_connect_func=hook, **options)
        hook = connections.connected_to_server if connections is not None else None
        return ResilientRedis.from_url(url, health_check_interval=30, redis_connect_func=hook, **options)
    except ValueError as exc:
        raise UserError(f"REDIS_URL {mask_uri(url)!r} is malformed: {exc}") from None
    except redis.RedisError as exc:  # a cluster client reads the slot map as it is built
        raise UserError(f"cannot use the Redis Cluster at {mask_uri(url)}: {mask_uri(str(exc))}") from None


def _check(url: str, timeout: float, cluster: bool) -> None:
    """Ping the node `url` names once, without retries, and see that it is a cluster node exactly if `cluster`."""
    try:
        probe = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                     retry=Retry(NoBackoff(), 0))  # fmt: skip
    except ValueError as exc:
        raise UserError(f"REDIS_URL {mask_uri(url)!r} is malformed: {exc}") from None
    try:
        enabled = bool(int(probe.info("cluster").get("cluster_enabled", 0)))
    except redis.RedisError as exc:
        raise UserError(
            f"cannot reach Redis at {mask_uri(url)}: {mask_uri(str(exc))}; start Redis or set REDIS_URL"
        ) from None
    finally:
        probe.close()
    if enabled and not cluster:
        raise UserError(f"Redis at {mask_uri(url)} is a Redis Cluster node: set REDIS_CLUSTER=true")
    if cluster and not enabled:
        raise UserError(f"REDIS_CLUSTER is on but Redis at {mask_uri(url)} is not a cluster node: set "
                        "REDIS_CLUSTER=false or point REDIS_URL at a cluster node")  # fmt: skip
