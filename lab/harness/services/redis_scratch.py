"""Throwaway Redis servers for tests and experiments: one that can be stopped and started
again mid-run (outage drills), and a three-master Redis Cluster, both native.

The cluster is what ``redis-cli --cluster create`` builds: ``redis-server
--cluster-enabled yes`` on consecutive ports, slots split evenly, no replicas.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from lab.errors import ServiceUnavailableError
from lab.harness.services.process import ServerProcess, log_tail

__all__ = ["ScratchRedis", "redis_cluster"]


class ScratchRedis:
    """A redis-server on ``port`` with its files under ``home``; ``stop()``/``start()``."""

    def __init__(self, port: int, home: Path, *, cluster: bool = False) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise ServiceUnavailableError("redis", "redis-server is not installed",
                                          "run `lab services up --only redis` once")  # fmt: skip
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = ServerProcess(f"redis-{port}", home)
        self._popen: subprocess.Popen[bytes] | None = None
        self._argv = [
            server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--dir", str(self.process.folder),
        ]  # fmt: skip
        if cluster:
            self._argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                           "--cluster-node-timeout", "2000"]  # fmt: skip

    def start(self, timeout_s: float = 10.0) -> None:
        self._popen = self.process.spawn(self._argv)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        tail = log_tail(self.process.log_file)
                        raise ServiceUnavailableError(
                            "redis", f"scratch server on port {self.port} did not start: {tail}"
                        ) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def freeze(self) -> None:
        """SIGSTOP the server: connections stay open and commands wait, as on a server
        stalled by a long command or a swapping host."""
        assert self._popen is not None, "start() it first"
        self._popen.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._popen is not None, "start() it first"
        self._popen.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._popen is not None:
            self._popen.send_signal(signal.SIGCONT)  # a frozen server cannot stop
        self.process.stop(timeout=10)
        if self._popen is not None:
            self._popen.wait(timeout=10)  # reaped: no zombie, no ResourceWarning
            self._popen = None


@contextmanager
def redis_cluster(home: Path, first_port: int = 7101, masters: int = 3) -> Iterator[list[str]]:
    """Start a cluster of ``masters`` nodes; yields their ``host:port`` strings."""
    nodes = [ScratchRedis(first_port + i, home, cluster=True) for i in range(masters)]
    try:
        for node in nodes:
            node.start()
        names = [f"127.0.0.1:{node.port}" for node in nodes]
        created = subprocess.run(
            ["redis-cli", "--cluster", "create", *names, "--cluster-replicas", "0",
             "--cluster-yes"], capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if created.returncode != 0:
            raise ServiceUnavailableError("redis cluster", created.stdout[-500:] + created.stderr)
        _wait_until_ok(nodes)
        yield names
    finally:
        for node in nodes:
            node.stop()


def _wait_until_ok(nodes: list[ScratchRedis], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    for node in nodes:
        client = redis.Redis(port=node.port)
        try:
            while not _cluster_ok(client):
                if time.monotonic() > deadline:
                    raise ServiceUnavailableError("redis cluster", "slots never all covered")
                time.sleep(0.1)
        finally:
            client.close()


def _cluster_ok(client: redis.Redis) -> bool:
    info = client.execute_command("CLUSTER INFO")  # type: ignore[no-untyped-call]
    state = info.get("cluster_state") if isinstance(info, dict) else None
    return state in ("ok", b"ok")
