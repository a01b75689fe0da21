"""The one way to get a Redis client: from a URL, checked, with errors a user can act on.

Clients reconnect on their own: a command that meets a dropped connection
(Redis restarting, a failover, a network blip) is retried with exponential
backoff and jitter for up to `REDIS_RETRIES` attempts (default 10: about
half a minute of outage) before the error reaches the caller. The
worker pauses meanwhile instead of failing its requests.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.retry import Retry

from linkcrawler import config
from linkcrawler.errors import UserError, mask_uri

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_from_settings(settings: Any, url: str | None = None) -> redis.Redis:
    """The shared Redis that `url` or else `REDIS_URL` names, retrying `REDIS_RETRIES` times, checked once."""
    return connect_redis(url or config.get(settings, "REDIS_URL"), retries=config.get(settings, "REDIS_RETRIES"))


def reconnect_policy(retries: int | None = None) -> Retry:
    """`retries` attempts, `REDIS_RETRIES` from the environment when a caller has no settings of its own."""
    attempts = config.from_environment()["REDIS_RETRIES"] if retries is None else retries
    return Retry(ExponentialWithJitterBackoff(base=0.2, cap=5.0), attempts)


class ResilientRedis(redis.Redis):
    """A client that retries through connection errors; also scrapy-redis's (`REDIS_PARAMS["redis_cls"]`)."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ResilientRedis:
        kwargs.setdefault("retry", reconnect_policy())
        kwargs.setdefault("retry_on_error", [redis.ConnectionError, redis.TimeoutError])
        kwargs.pop("retry_on_timeout", None)  # scrapy-redis's default; covered by retry_on_error
        return super().from_url(url, **kwargs)


def connect_redis(url: str, *, check: bool = True, timeout: float = 5.0, retries: int | None = None) -> redis.Redis:
    """Build a client for `url`; with `check`, ping it once so a dead server fails here, in one line.

    TLS (`rediss://`, with `ssl_cert_reqs`, `ssl_ca_certs`... as query
    parameters) and passwords (`redis://user:pw@host`) come from the URL
    itself, the way redis-py reads it.
    """
    if not url.startswith(REDIS_SCHEMES):
        raise UserError(
            f"REDIS_URL {mask_uri(url)!r} has an unsupported scheme; "
            "use redis://HOST:PORT/DB, rediss:// for TLS or unix:///path.sock"
        )
    try:
        client = ResilientRedis.from_url(url, socket_timeout=30, socket_connect_timeout=timeout,
                                         health_check_interval=30, retry=reconnect_policy(retries))  # fmt: skip
    except ValueError as exc:
        raise UserError(f"REDIS_URL {mask_uri(url)!r} is malformed: {exc}") from None
    if check:
        probe = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                     retry=Retry(NoBackoff(), 0))  # fmt: skip
        try:
            probe.ping()
        except redis.RedisError as exc:
            raise UserError(
                f"cannot reach Redis at {mask_uri(url)}: {mask_uri(str(exc))}; start Redis or set REDIS_URL"
            ) from None
        finally:
            probe.close()
    return client
