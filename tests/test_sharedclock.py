"""Workers date pages and links by Redis's clock: a host whose clock runs ahead leaves no future dates."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from linkcrawler.frontier.sharedclock import SharedClock


def redis_now(redis_client) -> datetime:
    seconds, microseconds = redis_client.time()
    return datetime.fromtimestamp(seconds + microseconds / 1_000_000, UTC)


def test_a_host_clock_an_hour_ahead_still_dates_by_redis(redis_client, monkeypatch):
    """`$max` keeps the latest last_seen and fetched_at: one worker dating an hour ahead fixed them there."""
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    clock = SharedClock(redis_client)
    assert abs(clock.sync() + 3600) < 1
    assert abs((clock.now() - redis_now(redis_client)).total_seconds()) < 1
