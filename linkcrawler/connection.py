"""The one way to get a Redis client: from a URL, checked, with errors a user can act on."""

from __future__ import annotations

from typing import Any

import redis

from linkcrawler import defaults
from linkcrawler.errors import UserError, mask_uri

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_url_from_settings(settings: Any) -> str:
    """`REDIS_URL` from Scrapy settings (which the settings modules fill from the environment)."""
    return settings.get("REDIS_URL") or defaults.REDIS_URL


def connect_redis(url: str, *, check: bool = True, timeout: float = 5.0) -> redis.Redis:
    """Build a client for `url`; with `check`, ping it so a dead server fails here, in one line.

    TLS (`rediss://`) and passwords (`redis://:pw@host`) come from the URL
    itself, the way redis-py reads it.
    """
    if not url.startswith(REDIS_SCHEMES):
        raise UserError(
            f"REDIS_URL {mask_uri(url)!r} has an unsupported scheme; "
            "use redis://HOST:PORT/DB, rediss:// for TLS or unix:///path.sock"
        )
    try:
        client = redis.Redis.from_url(
            url,
            socket_timeout=30,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
    except ValueError as exc:
        raise UserError(f"REDIS_URL {mask_uri(url)!r} is malformed: {exc}") from None
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise UserError(
                f"cannot reach Redis at {mask_uri(url)}: {mask_uri(str(exc))}; "
                "start Redis or set REDIS_URL"
            ) from None
    return client
