"""The opt-in replicated Kafka: three KRaft nodes, each a broker and a controller, from the
same Maven jars as the single broker (``lab services up --kafka-brokers 3``).

Node ``n`` (1-3) listens on 127.0.0.1:9190+2n with its controller on the next port, keeps
its files in ``<LAB_HOME>/kafka-node-<n>`` and has a fixed 512 MiB heap (the single broker
has 1 GiB). Topics default to replication factor 3 with ``min.insync.replicas=2``, so an
``acks=all`` write survives one broker's death. ``LAB_KAFKA_CLUSTER_BOOTSTRAP`` points at
another cluster instead.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from lab.errors import ServiceUnavailableError
from lab.harness.aio import outside_event_loop
from lab.harness.services.kafka_native import cluster_id, spawn_node, write_config
from lab.harness.services.probes import Health, probe_kafka_brokers
from lab.harness.services.process import ServerProcess, log_tail

__all__ = [
    "BROKERS",
    "CLUSTER_BOOTSTRAP_ENV",
    "START_HINT",
    "cluster_bootstrap",
    "kafka_cluster_down",
    "kafka_cluster_health",
    "kafka_cluster_up",
    "kill_node",
    "node_port",
    "node_process",
    "start_node",
]

BROKERS = 3
CLUSTER_BOOTSTRAP_ENV = "LAB_KAFKA_CLUSTER_BOOTSTRAP"
HEAP = ["-Xms512m", "-Xmx512m"]
START_HINT = "start it with `lab services up --kafka-brokers 3`"


def node_port(node: int) -> int:
    return 9190 + 2 * node


def cluster_bootstrap() -> str:
    given = os.environ.get(CLUSTER_BOOTSTRAP_ENV, "").strip()
    return given or ",".join(f"127.0.0.1:{node_port(n)}" for n in range(1, BROKERS + 1))


def node_process(home: Path, node: int) -> ServerProcess:
    return ServerProcess(f"kafka-node-{node}", home)


def _properties(folder: Path, node: int) -> dict[str, str]:
    port = node_port(node)
    voters = ",".join(f"{n}@127.0.0.1:{node_port(n) + 1}" for n in range(1, BROKERS + 1))
    return {
        "process.roles": "broker,controller",
        "node.id": str(node),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(folder / "data"),
        "num.partitions": "6",
        "default.replication.factor": "3",
        "min.insync.replicas": "2",
        "offsets.topic.replication.factor": "3",
        "offsets.topic.num.partitions": "6",
        "transaction.state.log.replication.factor": "3",
        "transaction.state.log.min.isr": "2",
        "share.coordinator.state.topic.replication.factor": "3",
        "share.coordinator.state.topic.min.isr": "2",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        # A dead broker is noticed within 3 s (KRaft's defaults: 9 s), so the experiment's
        # failure part sees a failover in seconds, as a tuned production cluster would.
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "500",
    }


def start_node(home: Path, node: int) -> None:
    """Start node ``node`` (1-3) of the cluster whose id is kept in ``home``."""
    proc = node_process(home, node)
    config = write_config(proc.folder, _properties(proc.folder, node))
    spawn_node(proc, config, cluster_id(home / "kafka-cluster.id"), HEAP)


def kill_node(home: Path, node: int) -> bool:
    """SIGKILL node ``node``, as a crashed host would; False if it was not running."""
    return node_process(home, node).kill()


@outside_event_loop
def kafka_cluster_health(bootstrap: str, timeout_s: float = 3.0) -> Health:
    """Whole: metadata lists every broker, and a group coordinator answers."""
    return asyncio.run(probe_kafka_brokers(bootstrap, BROKERS, timeout_s))


def kafka_cluster_up(home: Path, timeout_s: float = 180.0) -> str:
    """Start the nodes that are not running and wait until the cluster is whole."""
    bootstrap = cluster_bootstrap()
    if os.environ.get(CLUSTER_BOOTSTRAP_ENV):
        health = kafka_cluster_health(bootstrap)
        if not health.healthy:
            raise ServiceUnavailableError("kafka cluster", health.detail,
                                          f"fix it, or unset {CLUSTER_BOOTSTRAP_ENV}")  # fmt: skip
        return bootstrap
    for node in range(1, BROKERS + 1):
        if node_process(home, node).pid() is None:
            start_node(home, node)
    deadline = time.monotonic() + timeout_s
    while not (health := kafka_cluster_health(bootstrap)).healthy:
        dead = [n for n in range(1, BROKERS + 1) if node_process(home, n).pid() is None]
        if dead or time.monotonic() > deadline:
            proc = node_process(home, dead[0] if dead else 1)
            why = f"node {dead[0]} exited" if dead else health.detail
            tail = log_tail(proc.log_file)
            raise ServiceUnavailableError(
                "kafka cluster", f"{why}; last lines of {proc.log_file}:\n{tail}"
            )
        time.sleep(1.0)
    return bootstrap


def kafka_cluster_down(home: Path) -> bool:
    stopped = False
    for node in range(1, BROKERS + 1):
        stopped |= node_process(home, node).stop()
    return stopped
