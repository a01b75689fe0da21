"""`linkcrawler stats`: a crawl's health from Redis, as text or JSON, and one line when Redis is away."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.workers import WorkerRegistry

runner = CliRunner()


def test_stats_show_frontier_leases_rate_and_workers(redis_client, redis_url):
    redis_client.set(Partitions.count_key("backlinks"), 16)  # a crawl whose workers split it into 16 partitions
    partitions = Partitions("backlinks", 16)
    a, b, c = (partitions.of_site(site) for site in ("a.com", "b.com", "c.com"))
    redis_client.set(partitions.key(a, "queued"), 2)
    redis_client.set(partitions.key(b, "queued"), 1)
    redis_client.zadd(partitions.key(a, "sites"), {"a.com": 0})
    redis_client.zadd(partitions.key(b, "sites"), {"b.com": time.time() + 3600})
    redis_client.hset(partitions.key(c, "leases"), mapping={"w1/x#1": "c.com|0|a", "w1/x#2": "c.com|0|b"})
    live = WorkerRegistry(redis_client, "backlinks:workers", worker="host:1", pages_key="backlinks:pages_per_minute")
    live.beat(time.time(), pages=40)
    gone = WorkerRegistry(redis_client, "backlinks:workers", worker="host:2")
    gone.beat(time.time(), pages=7, left=True)
    redis_client.hset("backlinks:workers", "host:3", json.dumps(
        {"heartbeat": time.time() - 60, "last_active": 0, "pages": 3, "left": None}))  # fmt: skip
    minute = int(time.time() // 60)
    redis_client.hset("backlinks:pages_per_minute", str(minute - 1), 120)

    result = runner.invoke(app, ["stats", "--json", "--redis-url", redis_url])
    assert result.exit_code == 0, result.output
    health = json.loads(result.output)
    assert (health["frontier"], health["leased"], health["live_workers"]) == (3, 2, 1)
    assert (health["sites_queued"], health["sites_ready"]) == (2, 1)
    if int(time.time() // 60) == minute:  # the minute did not turn during the test
        assert (health["pages_last_minute"], health["pages_this_minute"]) == (120, 40)
    assert [(w["worker"], w["stale"]) for w in health["workers"]] == [("host:1", False), ("host:3", True)]
    assert health["workers"][1]["heartbeat_age"] >= 60

    text = runner.invoke(app, ["stats", "--redis-url", redis_url]).output
    assert "frontier: 3 request(s) queued" in text and "leased: 2 request(s)" in text
    assert "workers: 1 live" in text and "STALE" in text
    assert "sites: 2 with queued requests, 1 ready now, 1 waiting on their delay or slots" in text


def test_an_unreachable_redis_is_one_line_without_its_password():
    result = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "stats", "--redis-url", "redis://admin:s3cret@127.0.0.1:1/0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("linkcrawler: error: cannot reach Redis at redis://admin:***@127.0.0.1:1/0")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "s3cret" not in result.stderr + result.stdout
