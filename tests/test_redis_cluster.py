"""The test Redis Cluster is a real one: every slot served, each primary replicated, failover by the cluster."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import RedisCluster

from linkcrawler.local.redis_cluster import SLOTS, EmbeddedRedisCluster

pytestmark = pytest.mark.slow


def test_cluster_assembled_by_the_fixture_serves_every_slot_and_stops(redis_cluster: EmbeddedRedisCluster) -> None:
    with redis.Redis.from_url(redis_cluster.url) as node:
        shards = node.cluster("slots")
    covered = sorted(slot for first, last, *_ in shards for slot in range(first, last + 1))
    assert covered == list(range(SLOTS))
    assert len(shards) == 3
    assert all(len(replicas) == 1 for _, _, _, *replicas in shards)
    client = RedisCluster.from_url(redis_cluster.url)
    try:
        for n in range(50):
            client.set(f"key:{n}", n)
        assert [int(client.get(f"key:{n}")) for n in range(50)] == list(range(50))
        assert len({client.keyslot(f"key:{n}") * 3 // SLOTS for n in range(50)}) == 3  # keys on every primary
    finally:
        client.close()
    urls = redis_cluster.urls
    redis_cluster.stop()
    for url in urls:
        with pytest.raises(redis.ConnectionError), redis.Redis.from_url(url, socket_connect_timeout=1) as gone:
            gone.ping()


def test_a_primary_killed_is_replaced_by_its_replica(redis_cluster: EmbeddedRedisCluster) -> None:
    client = RedisCluster.from_url(redis_cluster.url)
    try:
        for n in range(50):
            client.set(f"key:{n}", n)
        killed = redis_cluster.primary_ports()[0]
        redis_cluster.node_on(killed).kill()
        redis_cluster.wait_failover(killed)
        assert killed not in redis_cluster.primary_ports()
        assert len(redis_cluster.primary_ports()) == 3
        assert [int(client.get(f"key:{n}")) for n in range(50)] == list(range(50))
    finally:
        client.close()
