"""Throwaway Redis servers for tests and experiments: one that can be stopped, frozen,
killed and started again mid-run (outage drills), alone or as a Redis Cluster's node
(``lab.harness.services.redis_cluster`` forms clusters of them)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from lab.errors import ServiceUnavailableError
from lab.harness.services.process import ServerProcess, log_tail

__all__ = ["ScratchRedis"]


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
            # A replica syncs at once (the default waits 5 s for more replicas to share a
            # diskless transfer); one that never synced refuses to be promoted.
            self._argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                           "--cluster-node-timeout", "2000",
                           "--repl-diskless-sync-delay", "0"]  # fmt: skip

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

    def kill(self) -> None:
        """SIGKILL the server, as a crashed host would: no goodbye to its peers."""
        self.process.kill()
        self._popen = None

    def stop(self) -> None:
        if self._popen is not None:
            self._popen.send_signal(signal.SIGCONT)  # a frozen server cannot stop
        self.process.stop(timeout=10)
        if self._popen is not None:
            self._popen.wait(timeout=10)  # reaped: no zombie, no ResourceWarning
            self._popen = None
