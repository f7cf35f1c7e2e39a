"""``lab serve --workers N``: N processes serving one port, their metrics merged.

The parent serves nothing itself. It:

1. checks the servers and prepares the database once (tables, indexes, the outbox
   table), so that workers do not race to create them;
2. reserves the port with a socket bound with ``SO_REUSEPORT`` that never listens (the
   kernel gives connections only to listening sockets); each worker binds the same port
   the same way and listens, and the kernel spreads new connections over the workers;
3. starts the simulated followers service in a process of its own, unless one is given,
   so that every worker calls the same downstream;
4. makes a fresh ``PROMETHEUS_MULTIPROC_DIR`` and spawns the workers (spawned, not
   forked: no event loop, thread or connection is inherited); each writes its figures
   there (:mod:`lab.patterns.monitoring_multiprocess`) and any of them answers
   ``/metrics`` with all of them;
5. prints one line when every worker serves. A worker that dies later is replaced: its
   counters stay in the folder, so totals never go down, and its gauges are removed
   (``mark_process_dead``). SIGINT or SIGTERM stops the workers, waits for them, and
   removes the folder.

Each worker has its own pool (so up to N × ``pool_size`` PostgreSQL connections), its
own limiter, and its own outbox relay; the registrations consumers share one Kafka
consumer group.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from multiprocessing.connection import wait
from typing import Any

from lab.errors import ConfigError, LabError
from lab.harness.aio import new_runner
from lab.harness.services.prometheus_native import registered_target
from lab.harness.url_process import url_process
from lab.patterns.monitoring_multiprocess import mark_process_dead
from lab.service.registrations import OUTBOX_DDL
from lab.service.serve import check_servers, serve
from lab.service.settings import ServiceSettings
from lab.service.store import UserStore

__all__ = ["serve_workers"]

_STOP_TIMEOUT_S = 15.0


async def _prepare(settings: ServiceSettings) -> None:
    await check_servers(settings)
    store = UserStore(settings.postgres_dsn, None)
    await store.prepare(settings.dataset_users, settings.dataset_posts)
    async with store.connection(counted=False) as connection:
        await connection.execute(OUTBOX_DDL)


@contextlib.contextmanager
def _reserved_port(host: str, port: int) -> Iterator[int]:
    reserve = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            reserve.bind((host, port))
        except OSError as error:
            raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        yield int(reserve.getsockname()[1])
    finally:
        reserve.close()


@contextlib.contextmanager
def _followers(settings: ServiceSettings, latency_ms: float) -> Iterator[str]:
    if settings.followers_url is not None:
        yield settings.followers_url
        return
    argv = [sys.executable, "-m", "lab.service.followers", "--latency-ms", str(latency_ms)]
    with url_process(argv, "the simulated followers service") as url:
        yield url.rstrip("/")


def _worker(settings: ServiceSettings, host: str, port: int, events: Any) -> None:
    """One worker process: serve until SIGINT/SIGTERM; report ready or the error."""
    pid = os.getpid()

    def ready(line: str) -> None:
        events.put((pid, "ready", line))

    try:
        with new_runner() as runner:  # uvloop if installed
            runner.run(serve(settings, host=host, port=port, ready=ready, reuse_port=True,
                             multiprocess=True))  # fmt: skip
    except KeyboardInterrupt:
        pass
    except LabError as error:
        events.put((pid, "config" if isinstance(error, ConfigError) else "error", str(error)))
        sys.exit(1)


class _Workers:
    def __init__(self, settings: ServiceSettings, host: str, port: int) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.events = self.context.Queue()
        self.settings, self.host, self.port = settings, host, port
        self.running: dict[int, Any] = {}  # sentinel -> process

    def start_one(self) -> Any:
        process = self.context.Process(
            target=_worker,
            name="lab serve worker",
            daemon=False,
            args=(self.settings, self.host, self.port, self.events),
        )
        process.start()
        self.running[process.sentinel] = process
        return process

    def wait_ready(self, processes: list[Any], stopping: Callable[[], bool]) -> str:
        """Block until each of ``processes`` serves (or ``stopping()``); raise the error
        of one that failed, or say which exited without a word."""
        waiting = {process.pid: process for process in processes}
        line = ""
        while waiting and not stopping():
            try:
                pid, kind, text = self.events.get(timeout=0.5)
            except queue.Empty:
                for pid, process in waiting.items():
                    if not process.is_alive() and self.events.empty():
                        raise LabError(f"worker {pid} exited with {process.exitcode} "
                                       "before serving") from None  # fmt: skip
                continue
            if kind != "ready":
                raise (ConfigError if kind == "config" else LabError)(text)
            waiting.pop(pid, None)
            line = text
        return line

    def stop(self) -> None:
        for process in self.running.values():
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.running.values():
            process.join(_STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
            mark_process_dead(process.pid)
        self.running.clear()

    def supervise(self, stopping: Callable[[], bool], say: Callable[[str], None]) -> None:
        """Replace workers that die until ``stopping()``."""
        while not stopping():
            for sentinel in wait(list(self.running), timeout=0.5):
                dead = self.running.pop(int(sentinel))  # type: ignore[arg-type]
                mark_process_dead(dead.pid)
                if stopping():
                    break
                say(f"worker {dead.pid} exited with {dead.exitcode}; starting another")
                self.wait_ready([self.start_one()], stopping)


def serve_workers(settings: ServiceSettings, *, host: str, port: int, workers: int,
                  followers_latency_ms: float = 5.0,
                  ready: Callable[[str], None] = lambda line: print(line, flush=True)
                  ) -> None:  # fmt: skip
    """Run ``workers`` worker processes until SIGINT or SIGTERM."""
    if workers < 2:
        raise ConfigError(f"serve_workers needs at least 2 workers, not {workers}")
    stop = False

    def stopping() -> bool:
        return stop

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stop
        stop = True

    metrics_dir = tempfile.mkdtemp(prefix="lab-serve-metrics-")
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _reserved_port(host, port) as bound:
            asyncio.run(_prepare(settings))
            _serve(settings, host, bound, workers, followers_latency_ms, metrics_dir, stopping,
                   ready)  # fmt: skip
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(settings: ServiceSettings, host: str, port: int, workers: int, latency_ms: float,
           metrics_dir: str, stopping: Callable[[], bool], ready: Callable[[str], None]
           ) -> None:  # fmt: skip
    with _followers(settings, latency_ms) as followers_url:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        group = _Workers(replace(settings, followers_url=followers_url), host, port)
        try:
            line = group.wait_ready([group.start_one() for _ in range(workers)], stopping)
            if line:
                ready(f"{line} [{workers} workers; metrics merged in {metrics_dir}]")
            with registered_target("lab-serve", f"{host}:{port}", {"workers": str(workers)}):
                group.supervise(stopping, lambda text: print(text, file=sys.stderr,
                                                             flush=True))  # fmt: skip
        finally:
            group.stop()
