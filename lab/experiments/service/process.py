"""Running the reference service for an experiment: the service and its followers
service in processes of their own, and a sampler that records the machine and the
service once a second while the load runs, so each second of load has the server's side
beside it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import psutil

from lab.config import endpoints
from lab.experiments.driver import Row
from lab.harness.url_process import url_process

__all__ = [
    "NAIVE_FLAGS",
    "Sampler",
    "established_to",
    "followers_process",
    "free_port",
    "read_stats",
    "service_process",
]

#: The seed's service: no pattern, and a request runs to its end after its client hung up
#: (as every ``lab serve`` did before ``0b02bca``).
NAIVE_FLAGS = ("--no-cache", "--no-pool", "--no-breaker", "--no-limiter", "--no-cancel-abandoned")


@contextmanager
def service_process(
    *flags: str,
    env: dict[str, str] | None = None,
    users: int = 10_000,
    posts: int = 100_000,
    stop_timeout_s: float = 30.0,
) -> Iterator[str]:
    """``lab serve --port 0 FLAGS`` in its own process; yields its base URL (no slash).
    On exit it is asked to stop (SIGTERM) and killed after ``stop_timeout_s``."""
    argv = [sys.executable, "-m", "lab.cli", "serve", "--port", "0", "--users", str(users),
            "--posts", str(posts), *flags]  # fmt: skip
    with url_process(argv, "lab serve", stop_timeout_s=stop_timeout_s, env=env) as url:
        yield url.rstrip("/")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def followers_process(outage_start_s: float = 0.0, outage_for_s: float = 0.0,
                      latency_ms: float = 5.0, port: int = 0) -> Iterator[str]:  # fmt: skip
    """The simulated followers service; its outage clock starts when it does."""
    argv = [sys.executable, "-m", "lab.service.followers", "--latency-ms", str(latency_ms),
            "--outage-start", str(outage_start_s), "--outage-for", str(outage_for_s),
            "--port", str(port)]  # fmt: skip
    with url_process(argv, "the followers service") as url:
        yield url.rstrip("/")


def read_stats(base: str, timeout_s: float = 2.0) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/api/_stats", timeout=timeout_s) as answer:
        return orjson.loads(answer.read())  # type: ignore[no-any-return]


_CONNECTIONS = (
    "SELECT count(*)::float8 * 100 / current_setting('max_connections')::int "
    "FROM pg_stat_activity WHERE backend_type = 'client backend'"
)


def established_to(port: int) -> int:
    """TCP connections established to ``port`` on this machine, counted on the server's
    side of each socket (its local port): the users a service is holding right now. Read
    from the kernel's socket tables where Linux has them (``psutil.net_connections`` maps
    every socket to its process first: a second or more with thousands of them open)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not any(table.exists() for table in tables):
        return sum(1 for c in psutil.net_connections(kind="tcp")
                   if c.status == psutil.CONN_ESTABLISHED and c.laddr
                   and c.laddr.port == port)  # fmt: skip
    local = f":{port:04X}"
    # Counted once per (local, remote) address: the kernel lists the table a page per
    # read, not as one snapshot, and resumes by position, so a socket may be listed twice
    # while others come and go. A unit test's one stats connection was once counted 2
    # beside the other test worker; a churn of 800 sockets here did not show it again.
    established: set[tuple[str, str]] = set()
    for table in tables:
        with contextlib.suppress(OSError), table.open() as lines:
            next(lines, None)  # the header
            for line in lines:
                # "sl local_address rem_address st ...": state 01 is ESTABLISHED
                fields = line.split(None, 4)
                if fields[3] == "01" and fields[1].endswith(local):
                    established.add((fields[1], fields[2]))
    return len(established)


class Sampler:
    """Once every ``every_s`` from ``start()`` to ``stop()``, two threads on the same
    ticks. One reads the machine: its CPU and memory (psutil, here: the load generator
    shares the machine) and the connections established to the service (counted at its
    sockets); it never waits on the service, so every second has them. The other asks:
    PostgreSQL's connections in use (a query of its own) and the service's
    ``/api/_stats`` when it answers within 2 s (an overloaded service may not: those
    columns are then empty, and that thread takes the next tick after its answer)."""

    def __init__(self, base: str, every_s: float = 1.0, dsn: str | None = None) -> None:
        self.base = base
        self.every_s = every_s
        self.dsn = dsn or endpoints().postgres_dsn
        self.samples: list[Row] = []
        self._machine: dict[int, Row] = {}
        self._service: dict[int, Row] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._machine_loop, name="machine sampler", daemon=True),
            threading.Thread(target=self._service_loop, name="service sampler", daemon=True),
        ]
        self._began = 0.0
        self._port = int(urllib.parse.urlsplit(base).port or 80)
        self._connection: asyncpg.Connection | None = None

    def start(self) -> Sampler:
        self._began = time.monotonic()
        psutil.cpu_percent(interval=None)  # the first call only starts the interval
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Row]:
        """The samples by tick (``t_s``: when it was due, from ``start()``): each tick's
        machine readings with what the service answered when asked at that tick."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        ticks = sorted(self._machine.keys() | self._service.keys())
        self.samples = [{**self._machine.get(tick, {}), **self._service.get(tick, {}),
                         "t_s": tick * self.every_s} for tick in ticks]  # fmt: skip
        return self.samples

    def _ticks(self) -> Iterator[int]:
        """Tick numbers, each when it is due (``every_s`` apart from ``start()``); a loop
        late by more than half a tick skips to the tick due nearest to now."""
        tick = 0
        while True:
            elapsed = time.monotonic() - self._began
            tick = max(tick + 1, round(elapsed / self.every_s))
            if self._stop.wait(max(0.0, tick * self.every_s - elapsed)):
                return
            yield tick

    def _machine_loop(self) -> None:
        for tick in self._ticks():
            self._machine[tick] = {
                "cpu_percent": psutil.cpu_percent(interval=None),
                "memory_percent": psutil.virtual_memory().percent,
                "service_connections": established_to(self._port),
            }  # fmt: skip

    def _db_connections(self, loop: asyncio.AbstractEventLoop) -> float | None:
        """PostgreSQL's connections in use, in % of its maximum; None while none can be
        had for asking (a naive service under overload may hold every slot)."""
        try:
            if self._connection is None:  # at most a second: the other readings must go on
                self._connection = loop.run_until_complete(asyncpg.connect(self.dsn, timeout=1.0))
            return float(
                loop.run_until_complete(self._connection.fetchval(_CONNECTIONS, timeout=1.0))
            )
        except (OSError, asyncpg.PostgresError):
            self._connection = None
            return None

    def _service_loop(self) -> None:
        loop = asyncio.new_event_loop()
        self._connection = None
        last: tuple[float, float] | None = None  # when, and the service's CPU seconds
        try:
            for tick in self._ticks():
                sample: Row = {"db_connections_percent": self._db_connections(loop)}
                self._service[tick] = sample
                try:
                    stats = read_stats(self.base)
                except OSError:
                    continue
                answered, cpu_s = time.monotonic(), stats["process"]["cpu_s"]
                if last is not None:
                    sample["service_cpu_percent"] = 100.0 * (cpu_s - last[1]) / (answered - last[0])
                last = (answered, cpu_s)
                limiter, pool = stats.get("limiter") or {}, stats["db"].get("pool") or {}
                sample.update({
                    "service_rss_mb": stats["process"]["rss_bytes"] / 2**20,
                    "pool_in_use": pool.get("in_use"), "pool_max": pool.get("max"),
                    "limit": limiter.get("limit"), "limiter_rejected": limiter.get("rejected"),
                    "limiter_timed_out": limiter.get("timed_out"),
                    "breaker": stats["followers"]["breaker"],
                    "short_circuited": stats["followers"]["short_circuited"],
                    "cache_hits": (stats.get("cache") or {}).get("hits"),
                })  # fmt: skip
        finally:
            if self._connection is not None:
                loop.run_until_complete(self._connection.close())
            loop.close()
