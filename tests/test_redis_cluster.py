"""The test Redis Cluster is a real one: every slot served, each primary replicated, failover by the cluster."""

from __future__ import annotations

import json

import pytest
import redis
from redis.cluster import RedisCluster
from scrapy import Request
from scrapy.settings import Settings
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.errors import UserError
from linkcrawler.frontier.connection import SharedRedis, redis_from_settings
from linkcrawler.frontier.health import check
from linkcrawler.frontier.leases import LEASE_META
from linkcrawler.frontier.stats import crawl_health
from linkcrawler.local.redis_cluster import SLOTS, EmbeddedRedisCluster
from tests.test_frontier import SEEN_SETS, open_scheduler, queued

pytestmark = pytest.mark.slow
runner = CliRunner()


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


def test_redis_cluster_gives_every_component_a_cluster_client(redis_cluster, monkeypatch) -> None:
    settings = Settings({"REDIS_URL": redis_cluster.url, "REDIS_CLUSTER": "true"})
    assert isinstance(redis_from_settings(settings), RedisCluster)
    params = {"cluster": True, "retries": 2, "retry_on_timeout": True}  # as REDIS_PARAMS gives them
    assert isinstance(SharedRedis.from_url(redis_cluster.url, **params), RedisCluster)  # scrapy-redis's own clients
    assert check(redis_cluster.url, "nowhere", 60.0, cluster=True)[1].startswith("no live worker on nowhere")
    monkeypatch.setenv("REDIS_CLUSTER", "true")
    result = runner.invoke(app, ["seed", "--redis-url", redis_cluster.url, "http://a.example/", "http://b.example/"])
    assert result.exit_code == 0, result.output
    assert RedisCluster.from_url(redis_cluster.url).llen("backlinks:start_urls") == 2
    result = runner.invoke(app, ["stats", "--redis-url", redis_cluster.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["start_urls"] == 2


def test_a_cluster_node_without_redis_cluster_is_refused_in_one_line(redis_cluster) -> None:
    with pytest.raises(UserError, match="is a Redis Cluster node: set REDIS_CLUSTER=true"):
        redis_from_settings(Settings({"REDIS_URL": redis_cluster.url, "REDIS_CLUSTER": "false"}))


@pytest.mark.parametrize("dupefilter", SEEN_SETS)
def test_the_frontier_runs_on_the_cluster_one_slot_per_script(redis_cluster, dupefilter) -> None:
    """Injects: links to 40 sites queued, popped, acknowledged and given back, through a cluster client, with each
    seen-set. Proves: every script ran (a script touching two slots fails on a cluster), each link queued once,
    and the partitions spread over all three primaries."""
    settings = {"REDIS_CLUSTER": "true", "DUPEFILTER_CLASS": dupefilter, "FRONTIER_PREFETCH": 8}
    first, second = open_scheduler(redis_cluster.url, **settings), open_scheduler(redis_cluster.url, **settings)
    links = [Request(f"http://www.site{n}.com/{page}") for n in range(40) for page in range(2)]
    assert queued(first, *links) == 80
    assert queued(second, *links) == 0
    popped = [request for request in iter(first.next_request, None)]
    assert sorted(request.url for request in popped) == sorted(request.url for request in links)
    first.ack([request.meta[LEASE_META] for request in popped[:70]])
    first.close("shutdown")  # the ten not acknowledged go back
    assert sorted(request.url for request in iter(second.next_request, None)) == sorted(r.url for r in popped[70:])
    client = RedisCluster.from_url(redis_cluster.url)
    try:
        health = crawl_health(client, "probe")
        assert (health.leased, health.frontier, health.sites_queued) == (10, 0, 0)
        nodes = {client.get_node_from_key(first.partitions.key(n, "sites")).port for n in first.partitions}
    finally:
        client.close()
    assert len(nodes) == 3
