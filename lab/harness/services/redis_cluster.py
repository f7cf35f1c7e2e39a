"""Redis Cluster: its topology read from ``CLUSTER NODES``, native clusters formed with
``redis-cli --cluster create``, and the opt-in profile of three masters and three replicas
that ``lab services up --redis-cluster`` starts on ports 7001-7006.

The profile's nodes are ``redis-server --cluster-enabled yes`` processes tracked like the
other servers (pid files under the lab's home), so an experiment can SIGKILL a master and
start it again: it comes back from its ``nodes.conf`` as a replica of whoever was promoted.
``LAB_REDIS_CLUSTER_NODES`` points at a cluster started elsewhere instead.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from lab.errors import ConfigError, ServiceUnavailableError
from lab.harness.services.probes import Health
from lab.harness.services.redis_scratch import ScratchRedis

__all__ = [
    "CLUSTER_ENV",
    "START_HINT",
    "ClusterNode",
    "cluster_down",
    "cluster_health",
    "cluster_nodes",
    "cluster_up",
    "form_cluster",
    "node_client",
    "parse_cluster_nodes",
    "profile_node",
    "scratch_cluster",
    "topology",
    "topology_problem",
    "wait_until_healthy",
]

CLUSTER_ENV = "LAB_REDIS_CLUSTER_NODES"
PROFILE_PORTS = tuple(range(7001, 7007))
MASTERS = 3
START_HINT = "start it with `lab services up --redis-cluster`"


@dataclass(frozen=True)
class ClusterNode:
    """One line of ``CLUSTER NODES``."""

    address: str  # host:port
    node_id: str
    role: str  # "master" or "replica"
    master_id: str | None  # a replica's master
    failing: bool  # flagged fail or fail? (suspected) by the node asked
    connected: bool
    slots: int  # how many hash slots it serves


def parse_cluster_nodes(text: str) -> list[ClusterNode]:
    """``CLUSTER NODES``' text as nodes; a line that is not a node's is a ValueError."""
    nodes = []
    for line in text.strip().splitlines():
        fields = line.split()
        if len(fields) < 8:
            raise ValueError(f"not a CLUSTER NODES line: {line!r}")
        flags = set(fields[2].split(","))
        slots = 0
        for spec in fields[8:]:
            if spec.startswith("["):  # a slot being migrated or imported
                continue
            first, _, last = spec.partition("-")
            slots += int(last or first) - int(first) + 1
        nodes.append(ClusterNode(
            address=fields[1].split("@")[0],
            node_id=fields[0],
            role="master" if "master" in flags else "replica",
            master_id=None if fields[3] == "-" else fields[3],
            failing=bool(flags & {"fail", "fail?"}),
            connected=fields[7] == "connected",
            slots=slots,
        ))  # fmt: skip
    return nodes


def topology_problem(nodes: Sequence[ClusterNode], masters: int, replicas: int) -> str | None:
    """What keeps the cluster from its full shape (``masters`` masters serving all 16384
    slots, each with ``replicas`` live replicas), or None."""
    serving = [n for n in nodes if n.role == "master" and n.slots and not n.failing]
    if sum(n.slots for n in serving) != 16384:
        return f"{16384 - sum(n.slots for n in serving)} hash slots have no live master"
    if len(serving) != masters:
        return f"{len(serving)} masters serve slots, not {masters}"
    for master in serving:
        live = [n for n in nodes if n.master_id == master.node_id and not n.failing
                and n.connected]  # fmt: skip
        if len(live) < replicas:
            return f"master {master.address} has {len(live)} live replicas, not {replicas}"
    return None


def node_client(address: str, timeout_s: float) -> redis.Redis:
    """A probe's client: no retries (redis-py backs off and retries 3 times by default)."""
    host, _, port = address.rpartition(":")
    client = redis.Redis(host=host, port=int(port), socket_timeout=timeout_s,
                         socket_connect_timeout=timeout_s,
                         retry=Retry(NoBackoff(), 0))  # fmt: skip
    client.set_response_callback("CLUSTER NODES", lambda response, **_: response)
    return client


def topology(addresses: Sequence[str], timeout_s: float = 1.0) -> list[ClusterNode]:
    """The cluster as the first node of ``addresses`` that answers sees it."""
    errors = []
    for address in addresses:
        client = node_client(address, timeout_s)
        try:
            text = client.execute_command("CLUSTER NODES")  # type: ignore[no-untyped-call]
            return parse_cluster_nodes(text.decode() if isinstance(text, bytes) else text)
        except (redis.RedisError, OSError) as error:
            errors.append(f"{address}: {error}")
        finally:
            client.close()
    detail = f"none of {len(errors)} nodes answers ({errors[0]})" if errors else "no node given"
    raise ServiceUnavailableError("redis cluster", detail, START_HINT)


def _node_problem(nodes: Sequence[ClusterNode]) -> str | None:
    """The first node that does not itself see the cluster as ok, or replica whose link to
    its master is not up (it has not finished its first sync, say: such a replica refuses
    to be promoted); None when every node is fine."""
    for node in nodes:
        client = node_client(node.address, 1.0)
        try:
            info = client.execute_command("CLUSTER INFO")  # type: ignore[no-untyped-call]
            state = info.get("cluster_state") if isinstance(info, dict) else None
            link = client.info("replication").get("master_link_status", "up")
        except (redis.RedisError, OSError) as error:
            return f"node {node.address}: {error}"
        finally:
            client.close()
        if state not in ("ok", b"ok"):
            return f"node {node.address} sees the cluster as {state!r}"
        if node.role == "replica" and link != "up":
            return f"replica {node.address} is not in sync with its master (link {link})"
    return None


def cluster_health(addresses: Sequence[str], masters: int = MASTERS, replicas: int = 1) -> Health:
    """Whole: ``masters`` masters serving every slot, each with ``replicas`` replicas in
    sync with it, and every node seeing the cluster as ok."""
    try:
        nodes = topology(addresses)
    except ServiceUnavailableError as error:
        return Health(False, error.detail)
    problem = topology_problem(nodes, masters, replicas) or _node_problem(nodes)
    if problem:
        return Health(False, problem)
    return Health(
        True,
        f"{masters} masters, each with {replicas} replica(s) in sync",
        _version(nodes[0].address),
    )


def _version(address: str) -> str | None:
    client = node_client(address, 1.0)
    try:
        return str(client.info("server").get("redis_version"))
    except (redis.RedisError, OSError):
        return None
    finally:
        client.close()


def wait_until_healthy(
    addresses: Sequence[str], masters: int, replicas: int, timeout_s: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while not (health := cluster_health(addresses, masters, replicas)).healthy:
        if time.monotonic() > deadline:
            raise ServiceUnavailableError("redis cluster", f"not whole after {timeout_s:.0f} s: "
                                          f"{health.detail}")  # fmt: skip
        time.sleep(0.2)


def form_cluster(nodes: Sequence[ScratchRedis], replicas: int) -> list[str]:
    """Start ``nodes`` and join them into one cluster (masters first, then a replica per
    master, as ``redis-cli --cluster create`` assigns them); their ``host:port``s."""
    for node in nodes:
        node.start()
    names = [f"127.0.0.1:{node.port}" for node in nodes]
    created = subprocess.run(
        ["redis-cli", "--cluster", "create", *names, "--cluster-replicas", str(replicas),
         "--cluster-yes"], capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if created.returncode != 0:
        raise ServiceUnavailableError("redis cluster", created.stdout[-500:] + created.stderr)
    wait_until_healthy(names, len(nodes) // (replicas + 1), replicas)
    return names


@contextmanager
def scratch_cluster(
    home: Path, first_port: int = 7101, masters: int = 3, replicas: int = 0
) -> Iterator[list[str]]:
    """A throwaway cluster of ``masters`` masters with ``replicas`` replicas each, for a
    test; yields the nodes' ``host:port``s and stops them all after."""
    nodes = [ScratchRedis(first_port + i, home, cluster=True)
             for i in range(masters * (replicas + 1))]  # fmt: skip
    try:
        yield form_cluster(nodes, replicas)
    finally:
        for node in nodes:
            node.stop()


# --- the profile: lab services up --redis-cluster --------------------------------------


def cluster_nodes() -> list[str]:
    """``LAB_REDIS_CLUSTER_NODES`` (``host:port,host:port``), else the profile's six."""
    given = os.environ.get(CLUSTER_ENV, "").strip()
    if not given:
        return [f"127.0.0.1:{port}" for port in PROFILE_PORTS]
    nodes = [spec.strip() for spec in given.split(",") if spec.strip()]
    for spec in nodes:
        host, _, port = spec.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"{CLUSTER_ENV}={given!r}: {spec!r} is not host:port "
                              "(write host:port,host:port,...)")  # fmt: skip
    return nodes


def profile_node(home: Path, port: int) -> ScratchRedis:
    """The profile's node on ``port``; its files live in ``home/redis-<port>``."""
    return ScratchRedis(port, home, cluster=True)


def cluster_up(home: Path) -> list[str]:
    """Make the profile's cluster whole: reuse it, start stopped nodes (they rejoin from
    their ``nodes.conf``), or form it from scratch."""
    names = cluster_nodes()
    if os.environ.get(CLUSTER_ENV):
        health = cluster_health(names)
        if not health.healthy:
            raise ServiceUnavailableError("redis cluster", f"{names[0]}...: {health.detail}",
                                          f"fix that cluster, or unset {CLUSTER_ENV}")  # fmt: skip
        return names
    nodes = [profile_node(home, port) for port in PROFILE_PORTS]
    formed = all((node.process.folder / "nodes.conf").exists() for node in nodes)
    if not formed:
        for node in nodes:
            node.stop()
            (node.process.folder / "nodes.conf").unlink(missing_ok=True)
        return form_cluster(nodes, replicas=1)
    for node in nodes:
        if node.process.pid() is None:
            node.start()
    wait_until_healthy(names, MASTERS, 1)
    return names


def cluster_down(home: Path) -> bool:
    """Stop the profile's nodes that run; True if any did. Their ``nodes.conf`` stays, so
    the next ``up`` brings back the same cluster."""
    stopped = False
    for port in PROFILE_PORTS:
        node = profile_node(home, port)
        stopped |= node.process.stop(timeout=10)  # reaps one this process started too
    return stopped
