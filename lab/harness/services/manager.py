"""``lab services up | down | status``: reuse healthy servers, start missing ones, stop ours."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from lab.config import Endpoints, endpoints, lab_home
from lab.errors import ConfigError, ServiceUnavailableError
from lab.harness.services.kafka_cluster import (
    BROKERS,
    cluster_bootstrap,
    kafka_cluster_down,
    kafka_cluster_health,
    kafka_cluster_up,
    node_process,
)
from lab.harness.services.kafka_native import KAFKA_VERSION, start_kafka
from lab.harness.services.postgres_native import create_database, start_postgres
from lab.harness.services.probes import Health, probe
from lab.harness.services.process import ServerProcess, log_tail
from lab.harness.services.prometheus_native import (
    rules_folder,
    start_prometheus,
    targets_folder,
)
from lab.harness.services.redis_cluster import (
    PROFILE_PORTS,
    cluster_down,
    cluster_health,
    cluster_nodes,
    cluster_up,
    profile_node,
)
from lab.harness.services.redis_native import start_redis

__all__ = ["PROFILES", "SERVICES", "ServiceStatus", "down", "parse_only", "status", "up"]

SERVICES = ("redis", "postgres", "kafka", "prometheus")
#: Opt-in servers for the experiments' failure parts: started only when asked for.
PROFILES = ("redis-cluster", "kafka-cluster")
START_TIMEOUT_S = {"redis": 30.0, "postgres": 90.0, "kafka": 180.0, "prometheus": 60.0}
STOP_SIGNAL = {"redis": signal.SIGTERM, "postgres": signal.SIGINT, "kafka": signal.SIGTERM,
               "prometheus": signal.SIGTERM}  # fmt: skip
HOW_TO_POINT = {
    "redis": "LAB_REDIS_URL",
    "postgres": "LAB_POSTGRES_DSN",
    "kafka": "LAB_KAFKA_BOOTSTRAP",
    "prometheus": "LAB_PROMETHEUS_URL",
    "redis-cluster": "LAB_REDIS_CLUSTER_NODES",
    "kafka-cluster": "LAB_KAFKA_CLUSTER_BOOTSTRAP",
}
COMPOSE_FILE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
LOCAL_HOSTS = {"localhost", "::1"}

Starter = Callable[[ServerProcess, Endpoints], "subprocess.Popen[bytes]"]
STARTERS: dict[str, Starter] = {
    "redis": start_redis,
    "postgres": start_postgres,
    "kafka": start_kafka,
    "prometheus": start_prometheus,
}


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    endpoint: str
    started_by: str  # "lab/native", "docker", "external" or "-"
    pid: int | None
    health: Health

    @property
    def version(self) -> str:
        if self.health.version:
            return self.health.version
        native_kafka = self.service in ("kafka", "kafka-cluster")
        return KAFKA_VERSION if native_kafka and self.started_by == "lab/native" else "?"


def parse_only(only: str | None) -> list[str]:
    """``"redis,kafka"`` -> ``["redis", "kafka"]``; None -> all four."""
    if not only:
        return list(SERVICES)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVICES]
    if unknown or not names:
        raise ConfigError(f"--only takes a comma-separated list of {', '.join(SERVICES)}")
    return names


def _endpoint(service: str, ep: Endpoints) -> str:
    if service in PROFILES:
        nodes = cluster_nodes() if service == "redis-cluster" else cluster_bootstrap().split(",")
        return f"{nodes[0]} (+{len(nodes) - 1})"
    return str({"redis": ep.redis, "postgres": ep.postgres, "kafka": ep.kafka,
                "prometheus": ep.prometheus}[service])  # fmt: skip


def _docker_marker(proc: ServerProcess) -> Path:
    return proc.folder / "started-by-docker"


def _status_of(service: str, ep: Endpoints, home: Path, health: Health) -> ServiceStatus:
    proc = ServerProcess(service, home)
    pid = proc.pid()
    if pid is not None:
        who = "lab/native"
    elif _docker_marker(proc).exists():
        who = "docker"
    else:
        who = "external" if health.healthy else "-"
    return ServiceStatus(service, _endpoint(service, ep), who, pid, health)


def _cluster_status(service: str, ep: Endpoints, home: Path) -> ServiceStatus:
    if service == "redis-cluster":
        health = cluster_health(cluster_nodes())
        pids = [profile_node(home, port).process.pid() for port in PROFILE_PORTS]
    else:
        health = kafka_cluster_health(cluster_bootstrap())
        pids = [node_process(home, node).pid() for node in range(1, BROKERS + 1)]
    running = [pid for pid in pids if pid is not None]
    who = "lab/native" if running else "external" if health.healthy else "-"
    return ServiceStatus(service, _endpoint(service, ep), who,
                         running[0] if running else None, health)  # fmt: skip


def status(services: Iterable[str] = SERVICES) -> list[ServiceStatus]:
    ep = endpoints()
    home = lab_home()
    return [_cluster_status(name, ep, home) if name in PROFILES
            else _status_of(name, ep, home, probe(name, ep)) for name in services]  # fmt: skip


def _docker_engine() -> bool:
    if os.environ.get("LAB_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return info.returncode == 0


def _admin_endpoints(service: str, ep: Endpoints) -> Endpoints:
    """PostgreSQL is ready before the DSN's database exists: probe the maintenance db."""
    if service != "postgres":
        return ep
    parts = urlsplit(ep.postgres_dsn)
    return dataclasses.replace(ep, postgres_dsn=urlunsplit(parts._replace(path="/postgres")))


def _wait_ready(
    service: str, ep: Endpoints, proc: ServerProcess, process: subprocess.Popen[bytes] | None
) -> Health:
    deadline = time.monotonic() + START_TIMEOUT_S[service]
    health = Health(False, "not probed yet")
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            proc.pid_file.unlink(missing_ok=True)
            raise ServiceUnavailableError(
                service,
                f"the server exited with code {process.returncode} during start-up; "
                f"last lines of {proc.log_file}:\n{log_tail(proc.log_file)}",
                f"fix the cause above, or point {HOW_TO_POINT[service]} at a running server",
            )
        health = probe(service, _admin_endpoints(service, ep), timeout=2.0)
        if health.healthy:
            return health
        time.sleep(0.5)
    raise ServiceUnavailableError(
        service,
        f"not ready after {START_TIMEOUT_S[service]:.0f} s ({health.detail}); "
        f"last lines of {proc.log_file}:\n{log_tail(proc.log_file)}",
    )


def _start(service: str, ep: Endpoints, proc: ServerProcess) -> None:
    host = _endpoint(service, ep).rpartition(":")[0].strip("[]")
    if not (host.startswith("127.") or host in LOCAL_HOSTS):
        raise ServiceUnavailableError(
            service,
            f"{_endpoint(service, ep)} does not answer and is not on this machine",
            f"start it there, or unset {HOW_TO_POINT[service]} to let lab run one locally",
        )
    if _docker_engine():
        proc.folder.mkdir(parents=True, exist_ok=True)
        if service == "prometheus":  # mounted into the container (docker-compose.yml)
            targets_folder(proc.folder.parent).mkdir(exist_ok=True)
            rules_folder(proc.folder.parent).mkdir(exist_ok=True)
        subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "up", "-d", "--wait", service],
            check=True,
        )
        _docker_marker(proc).touch()
        _wait_ready(service, ep, proc, None)
    else:
        process = STARTERS[service](proc, ep)
        _wait_ready(service, ep, proc, process)
    if service == "postgres":
        create_database(proc, ep)


def up(
    services: Iterable[str] = SERVICES, on_progress: Callable[[str], None] = lambda _: None
) -> list[ServiceStatus]:
    """Make each service healthy: reuse a healthy one, else wait for ours, else start one."""
    ep = endpoints()
    home = lab_home()
    home.mkdir(parents=True, exist_ok=True)
    for service in services:
        if service in PROFILES:
            on_progress(f"{service}: making {_endpoint(service, ep)} whole")
            (cluster_up if service == "redis-cluster" else kafka_cluster_up)(home)
            on_progress(f"{service}: ready")
            continue
        proc = ServerProcess(service, home)
        health = probe(service, ep)
        if health.healthy:
            on_progress(f"{service}: healthy at {_endpoint(service, ep)}, reused")
            continue
        if proc.pid() is not None:
            on_progress(f"{service}: ours is running but not ready; waiting")
            _wait_ready(service, ep, proc, None)
            if service == "postgres":
                create_database(proc, ep)
            continue
        on_progress(f"{service}: starting at {_endpoint(service, ep)}")
        _start(service, ep, proc)
        on_progress(f"{service}: ready")
    return status(services)


def down(services: Iterable[str] = SERVICES) -> list[str]:
    """Stop what ``up`` started (never an external server). Returns the services stopped."""
    home = lab_home()
    stopped = []
    for service in services:
        if service in PROFILES:
            if (cluster_down if service == "redis-cluster" else kafka_cluster_down)(home):
                stopped.append(service)
            continue
        proc = ServerProcess(service, home)
        marker = _docker_marker(proc)
        if marker.exists():
            subprocess.run(
                ["docker", "compose", "-f", str(COMPOSE_FILE), "stop", service], check=False
            )
            marker.unlink()
            stopped.append(service)
        elif proc.stop(STOP_SIGNAL[service]):
            stopped.append(service)
    return stopped
