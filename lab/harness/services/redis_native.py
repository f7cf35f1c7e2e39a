"""Redis from Debian's redis-server package, one process, no persistence."""

from __future__ import annotations

import subprocess

from lab.config import Endpoints
from lab.harness.services.installer import ensure_binary
from lab.harness.services.process import ServerProcess

__all__ = ["start_redis"]


def start_redis(proc: ServerProcess, ep: Endpoints) -> subprocess.Popen[bytes]:
    server = ensure_binary(
        "redis",
        "redis-server",
        ["redis-server", "redis-tools"],
        "point LAB_REDIS_URL at a running Redis",
    )
    where = ep.redis
    proc.folder.mkdir(parents=True, exist_ok=True)
    argv = [
        server,
        "--bind", where.host,
        "--port", str(where.port),
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--dir", str(proc.folder),
        "--maxclients", "10000",
    ]  # fmt: skip
    return proc.spawn(argv)
