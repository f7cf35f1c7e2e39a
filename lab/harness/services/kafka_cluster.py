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
import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

from lab.errors import ServiceUnavailableError
from lab.harness.aio import outside_event_loop
from lab.harness.services.kafka_native import cluster_id, spawn_node, write_config
from lab.harness.services.probes import Health
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


#: Nodes this process started, so that one killed here is reaped here.
_STARTED_HERE: dict[Path, subprocess.Popen[bytes]] = {}


def start_node(home: Path, node: int) -> None:
    """Start node ``node`` (1-3) of the cluster whose id is kept in ``home``."""
    proc = node_process(home, node)
    config = write_config(proc.folder, _properties(proc.folder, node))
    _STARTED_HERE[proc.folder] = spawn_node(proc, config, cluster_id(home / "kafka-cluster.id"),
                                            HEAP)  # fmt: skip


def kill_node(home: Path, node: int) -> bool:
    """SIGKILL node ``node``, as a crashed host would; False if it was not running."""
    proc = node_process(home, node)
    pid = proc.pid()
    if pid is None:
        return False
    os.killpg(pid, signal.SIGKILL)
    started = _STARTED_HERE.pop(proc.folder, None)
    if started is not None:
        started.wait(timeout=30)
    proc.pid_file.unlink(missing_ok=True)
    return True


@outside_event_loop
def kafka_cluster_health(bootstrap: str, timeout_s: float = 3.0) -> Health:
    """Whole: metadata lists every broker, and a group coordinator answers."""
    return asyncio.run(_health(bootstrap, timeout_s))


async def _health(bootstrap: str, timeout_s: float) -> Health:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap,
                                request_timeout_ms=int(timeout_s * 1000))  # fmt: skip
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        async with asyncio.timeout(timeout_s * 2):
            await admin.start()
            brokers = (await admin.describe_cluster()).get("brokers", [])
            if len(brokers) < BROKERS:
                return Health(False, f"metadata lists {len(brokers)} of {BROKERS} brokers")
            await admin.find_coordinator("lab-readiness-probe")
        return Health(True, f"{len(brokers)} brokers and a group coordinator")
    except Exception as error:
        if "Unable to bootstrap" in str(error):
            return Health(False, "no broker answers")
        return Health(False, f"{type(error).__name__}: {error}".strip(": "))
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


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
        started = _STARTED_HERE.pop(node_process(home, node).folder, None)
        if started is not None:
            started.wait(timeout=30)
    return stopped
