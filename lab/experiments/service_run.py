"""Running the reference service for an experiment: the service and its followers
service in processes of their own, and a sampler that reads the service's ``/api/_stats``
once a second while the load runs (CPU, memory, pool, limiter, breaker, PostgreSQL
connections), so each second of load has the server's side beside it."""

from __future__ import annotations

import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from lab.harness.url_process import url_process

__all__ = ["NAIVE_FLAGS", "Sampler", "followers_process", "free_port", "service_process"]

NAIVE_FLAGS = ("--no-cache", "--no-pool", "--no-breaker", "--no-limiter")


@contextmanager
def service_process(*flags: str, env: dict[str, str] | None = None, users: int = 10_000,
                    posts: int = 100_000) -> Iterator[str]:  # fmt: skip
    """``lab serve --port 0 FLAGS`` in its own process; yields its base URL (no slash)."""
    argv = [sys.executable, "-m", "lab.cli", "serve", "--port", "0", "--users", str(users),
            "--posts", str(posts), *flags]  # fmt: skip
    with url_process(argv, "lab serve", stop_timeout_s=30, env=env) as url:
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


class Sampler:
    """``/api/_stats`` every ``every_s`` on a thread, from ``start()`` to ``stop()``;
    ``samples`` holds (seconds since start, stats) and the process CPU % between samples."""

    def __init__(self, base: str, every_s: float = 1.0) -> None:
        self.base = base
        self.every_s = every_s
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="stats sampler", daemon=True)
        self._began = 0.0

    def start(self) -> Sampler:
        self._began = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> list[dict[str, Any]]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.samples

    def _loop(self) -> None:
        last: tuple[float, float] | None = None
        while not self._stop.wait(self.every_s):
            try:
                stats = read_stats(self.base)
            except OSError:
                continue  # the service too busy to answer is itself a finding; skip the point
            now = time.monotonic() - self._began
            cpu_s = stats["process"]["cpu_s"]
            busy = 100.0 * (cpu_s - last[1]) / (now - last[0]) if last else float("nan")
            last = (now, cpu_s)
            limiter, pool = stats.get("limiter") or {}, stats["db"].get("pool") or {}
            self.samples.append({
                "t_s": now, "service_cpu_percent": busy,
                "service_rss_mb": stats["process"]["rss_bytes"] / 2**20,
                "cpu_percent": stats["system"]["cpu_percent"],
                "memory_percent": stats["system"]["memory_percent"],
                "db_connections_percent": stats["db"]["server_connections_percent"],
                "pool_in_use": pool.get("in_use"), "pool_max": pool.get("max"),
                "limit": limiter.get("limit"), "limiter_rejected": limiter.get("rejected"),
                "breaker": stats["followers"]["breaker"],
                "short_circuited": stats["followers"]["short_circuited"],
                "cache_hits": (stats.get("cache") or {}).get("hits"),
            })  # fmt: skip
