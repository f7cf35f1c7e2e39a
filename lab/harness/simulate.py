"""Simulated downstream servers: real HTTP on 127.0.0.1 whose behaviour is a model you set.

Service time (fixed or drawn from a distribution), a capacity of N concurrent requests
beyond which requests queue (latency grows with load, as Little's law says), and faults
on a schedule: an error rate, stall windows (no response for T seconds), slow responses,
connection resets. Counters record what reached the server, so a test can check it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import ssl
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from lab.errors import ConfigError
from lab.harness.aio import stop_signals
from lab.harness.url_process import url_process

__all__ = ["ServerCounters", "ServerModel", "SimulatedServer", "server_process"]

DISTRIBUTIONS = ("fixed", "exponential", "lognormal")
STATS_PATH = "/__stats"
#: aiohttp's own shutdown timeout, beyond the server's: a backstop it should never reach.
_BACKSTOP_S = 5.0


@dataclass(frozen=True)
class ServerModel:
    """What the server does with each request. Durations in seconds, rates as shares 0..1."""

    service_s: float = 0.0
    distribution: str = "fixed"
    capacity: int = 0  # concurrent requests served at once; 0 = unbounded
    error_rate: float = 0.0  # answered 500
    slow_rate: float = 0.0  # take slow_extra_s longer
    slow_extra_s: float = 0.0
    reset_rate: float = 0.0  # connection reset instead of an answer
    stall_every_s: float = 0.0  # a stall window starts every stall_every_s ...
    stall_for_s: float = 0.0  # ... and lasts stall_for_s: nothing is answered in it
    outage_start_s: float = 0.0  # from here ...
    outage_for_s: float = 0.0  # ... for this long, requests are answered 500 ...
    outage_error_rate: float = 1.0  # ... this share of them (1.0: every one)
    slowdown_start_s: float = 0.0  # from here ...
    slowdown_for_s: float = 0.0  # ... for this long, every request takes slowdown_extra_s more
    slowdown_extra_s: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.distribution not in DISTRIBUTIONS:
            raise ConfigError(f"distribution must be one of {', '.join(DISTRIBUTIONS)}")
        for name in ("service_s", "slow_extra_s", "stall_every_s", "stall_for_s",
                     "outage_start_s", "outage_for_s", "slowdown_start_s", "slowdown_for_s",
                     "slowdown_extra_s"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")
        for name in ("error_rate", "slow_rate", "reset_rate", "outage_error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be between 0 and 1")
        if self.capacity < 0:
            raise ConfigError("capacity must not be negative (0 means unbounded)")
        if self.stall_for_s and self.stall_for_s >= self.stall_every_s:
            raise ConfigError("stall_for must be shorter than stall_every")

    def stall_remaining(self, since_start: float) -> float:
        """Seconds left in the stall window at ``since_start`` (0 outside any window).

        Windows are [k*every, k*every + for) for k = 1, 2, ...: the first comes after a
        whole healthy period.
        """
        if not self.stall_every_s or not self.stall_for_s or since_start < self.stall_every_s:
            return 0.0
        into = since_start % self.stall_every_s
        return self.stall_for_s - into if into < self.stall_for_s else 0.0

    def in_outage(self, since_start: float) -> bool:
        return self.outage_start_s <= since_start < self.outage_start_s + self.outage_for_s

    def in_slowdown(self, since_start: float) -> bool:
        return self.slowdown_start_s <= since_start < self.slowdown_start_s + self.slowdown_for_s

    def draw_service(self, rng: random.Random) -> float:
        if self.service_s == 0 or self.distribution == "fixed":
            return self.service_s
        if self.distribution == "exponential":
            return rng.expovariate(1.0 / self.service_s)
        sigma = 0.5  # lognormal with the given mean
        return rng.lognormvariate(_log_mean(self.service_s, sigma), sigma)


def _log_mean(mean: float, sigma: float) -> float:
    import math

    return math.log(mean) - sigma * sigma / 2


@dataclass
class ServerCounters:
    received: int = 0
    answered: int = 0
    errors_injected: int = 0
    resets_injected: int = 0
    slowed: int = 0
    stalled: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    serving: int = 0
    max_serving: int = 0
    waiting_for_capacity: int = 0
    max_waiting_for_capacity: int = 0
    by_path: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class SimulatedServer:
    """An aiohttp server following ``model``. ``async with`` it; ``url`` says where it is.

    ``clock`` measures the fault schedule (injectable for tests); sleeps are real.
    """

    def __init__(
        self, model: ServerModel, *, host: str = "127.0.0.1", port: int = 0,
        clock: Callable[[], float] = time.monotonic, middlewares: Sequence[Any] = (),
        shutdown_timeout_s: float = 60.0,
        respond: Callable[[web.Request], web.StreamResponse] | None = None,
        tls: ssl.SSLContext | None = None,
        routes: Sequence[tuple[str, Any]] = (),
    ) -> None:  # fmt: skip
        #: ``(path, handler)`` GET routes outside the model (no delay, no fault), such as
        #: ``/metrics``; the middlewares still see them.
        self.routes = tuple(routes)
        #: Serve https with this server-side context (certificate loaded) instead of http.
        self.tls = tls
        #: The healthy answer (default: 200 "ok"), e.g. JSON for a service it stands in for.
        self.respond = respond
        self.shutdown_timeout_s = shutdown_timeout_s  # then requests still served are cancelled
        self.model = model
        self.middlewares = tuple(middlewares)  # e.g. a limiter, request metrics
        self.host = host
        self.port = port
        self.clock = clock
        self.counters = ServerCounters()
        self._rng = random.Random(model.seed)
        self._capacity = asyncio.Semaphore(model.capacity) if model.capacity else None
        self._started = 0.0
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()  # requests being served

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/"

    async def start(self) -> None:
        app = web.Application(middlewares=self.middlewares)
        app.router.add_get(STATS_PATH, self._stats)
        for path, handler in self.routes:
            app.router.add_get(path, handler)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # aiohttp's own shutdown timeout is only a backstop: stop() cancels what is still
        # served after shutdown_timeout_s itself (see there)
        backstop = self.shutdown_timeout_s + _BACKSTOP_S
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=backstop)  # fmt: skip
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError as error:
            listener.close()
            raise ConfigError(
                f"cannot listen on {self.host}:{self.port}: {error.strerror}"
            ) from None
        self.port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener, backlog=1024, ssl_context=self.tls).start()
        self._started = self.clock()

    async def stop(self) -> None:
        """Stop listening, give the requests being served ``shutdown_timeout_s`` to finish,
        then cancel the rest. The cancelling is ours, not aiohttp's: when aiohttp's own
        shutdown timeout ends in the same loop turn as a handler, the handler sets the
        result of the cancelled wait and aiohttp logs an "Unhandled exception ...
        InvalidStateError" traceback per connection (aiohttp 3.14; a quick load-control
        run printed nine)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        cleanup = asyncio.ensure_future(runner.cleanup())
        done, _ = await asyncio.wait({cleanup}, timeout=self.shutdown_timeout_s)
        if not done:
            for handler in list(self._handlers):
                handler.cancel()
        await cleanup

    async def __aenter__(self) -> SimulatedServer:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.counters.as_dict())

    async def _wait_out_stall(self) -> None:
        remaining = self.model.stall_remaining(self.clock() - self._started)
        if remaining > 0:
            self.counters.stalled += 1
            await asyncio.sleep(remaining)

    async def _serve(self) -> None:
        c = self.counters
        c.serving += 1
        c.max_serving = max(c.max_serving, c.serving)
        try:
            await self._service_time()
        finally:
            c.serving -= 1

    async def _service_time(self) -> None:
        model, rng = self.model, self._rng
        delay = model.draw_service(rng)
        if model.slow_rate and rng.random() < model.slow_rate:
            self.counters.slowed += 1
            delay += model.slow_extra_s
        if model.in_slowdown(self.clock() - self._started):
            self.counters.slowed += 1
            delay += model.slowdown_extra_s
        if delay:
            await asyncio.sleep(delay)
        await self._wait_out_stall()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        c = self.counters
        c.received += 1
        c.by_path[request.path] = c.by_path.get(request.path, 0) + 1
        c.in_flight += 1
        c.max_in_flight = max(c.max_in_flight, c.in_flight)
        handler = asyncio.current_task()
        self._handlers.add(handler)  # type: ignore[arg-type]  # a handler runs in a task
        try:
            await self._wait_out_stall()
            if self._capacity is None:
                await self._serve()
            else:
                c.waiting_for_capacity += 1
                c.max_waiting_for_capacity = max(c.max_waiting_for_capacity, c.waiting_for_capacity)
                try:
                    await self._capacity.acquire()
                finally:
                    c.waiting_for_capacity -= 1
                try:
                    await self._serve()
                finally:
                    self._capacity.release()
            if self.model.in_outage(self.clock() - self._started) and (
                self.model.outage_error_rate >= 1.0
                or self._rng.random() < self.model.outage_error_rate
            ):
                c.errors_injected += 1
                c.answered += 1
                return web.Response(status=500, text="outage")
            draw = self._rng.random()
            if draw < self.model.reset_rate:
                c.resets_injected += 1
                if request.transport is not None:
                    request.transport.abort()
                raise asyncio.CancelledError  # nothing more is sent on this connection
            if draw < self.model.reset_rate + self.model.error_rate:
                c.errors_injected += 1
                c.answered += 1
                return web.Response(status=500, text="injected error")
            c.answered += 1
            return self.respond(request) if self.respond else web.Response(text="ok")
        finally:
            c.in_flight -= 1
            self._handlers.discard(handler)


@contextlib.contextmanager
def server_process(model: ServerModel, tls_files: tuple[str, str] | None = None
                   ) -> Iterator[str]:  # fmt: skip
    """Run a simulated server in a process of its own (so its CPU is not the caller's);
    yields its URL, and stops it on exit. ``tls_files``: (certificate chain, key) PEM
    files: it then serves https."""
    argv = [sys.executable, "-m", "lab.cli", "simulate", "--port", "0",
            "--service-ms", str(model.service_s * 1000), "--distribution", model.distribution,
            "--capacity", str(model.capacity), "--error-rate", str(model.error_rate),
            "--slow-rate", str(model.slow_rate), "--slow-ms", str(model.slow_extra_s * 1000),
            "--reset-rate", str(model.reset_rate), "--seed", str(model.seed)]  # fmt: skip
    if model.stall_every_s:
        argv += ["--stall-every", f"{model.stall_every_s}s", "--stall-for", f"{model.stall_for_s}s"]
    if model.outage_for_s or model.slowdown_for_s:
        raise ConfigError("outage and slowdown windows are for in-process servers only")
    if tls_files is not None:
        argv += ["--cert-file", tls_files[0], "--key-file", tls_files[1]]
    with url_process(argv, "the simulated server", stop_timeout_s=10) as url:
        yield url


def throwaway_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[str, str, str]:
    """A test CA (trustme) and a certificate it issued for ``host``, written to ``folder``:
    (the CA file a client trusts, the certificate chain, its key), for ``tls_files``."""
    import trustme

    authority = trustme.CA()
    ca_file, chain, key = (str(folder / name) for name in ("ca.pem", "chain.pem", "key.pem"))
    authority.cert_pem.write_to_path(ca_file)
    leaf = authority.issue_cert(host)
    leaf.private_key_pem.write_to_path(key)
    Path(chain).write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return ca_file, chain, key


def server_tls(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server-side TLS context from PEM files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(f"cannot load {cert_file} and {key_file}: "
                          f"{getattr(error, 'strerror', None) or error}") from None  # fmt: skip
    return context


async def serve_forever(model: ServerModel, host: str, port: int,
                        tls: ssl.SSLContext | None = None) -> None:  # fmt: skip
    """Run until SIGINT or SIGTERM, or until cancelled (``lab simulate``)."""
    async with SimulatedServer(model, host=host, port=port, tls=tls) as server:
        with stop_signals() as stop, contextlib.suppress(asyncio.CancelledError):
            stats = f"{server.url.rstrip('/')}{STATS_PATH}"
            print(f"simulating at {server.url} (stats at {stats})", flush=True)
            await stop.wait()
