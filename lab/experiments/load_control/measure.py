"""Load control: do adaptive limiters find a server's capacity, and what do they and the
request metrics cost?

* ``convergence``: every limiter against a server of known capacity C (queueing beyond
  it) under a load step, a ramp and a capacity drop, in virtual time
  (:mod:`lab.experiments.load_control.simulation`): the limit over time against C, time to
  settle, steady-state error, goodput and p99, beside no limiter and a fixed limit of C.
* ``overload``: the same question over real HTTP: a simulated server on 127.0.0.1 with
  the limiter as aiohttp middleware, driven open-loop from light load into 2x overload.
  The server also records its request metrics, so its Prometheus-bucket p95/p99 can be
  set against an HdrHistogram of the same requests (``quantiles``).
* ``overhead``: acquire+release against a bare ``asyncio.Semaphore``, in the same run.
* ``monitoring``: a minimal aiohttp and FastAPI endpoint, each in its own process, with
  and without the metrics middleware (aiohttp also with an empty middleware, and with the
  same metrics around the server's handler and through its access log), all of a stack's
  served at once at one constant rate, so each round pairs their CPU per request under
  the same conditions; the order they are started in turns each round.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import numpy as np
import pandas as pd
from aiohttp import web

from lab.experiments.driver import Part, Progress, Row, chosen_settings, drive
from lab.experiments.load_control import tables
from lab.experiments.load_control.monitoring_endpoint import (
    CPU_PATH,
    VARIANTS,
    available_stacks,
    endpoint_process,
)
from lab.experiments.load_control.monitoring_stages import stage_costs
from lab.experiments.load_control.promql import promql_quantiles, scraped
from lab.experiments.load_control.simulation import SCENARIOS, SimSettings, simulate
from lab.harness.aio import new_runner, outside_event_loop
from lab.harness.latency import LatencyRecorder
from lab.harness.loadgen import LoadSettings, Schedule, run_load
from lab.harness.simulate import ServerModel, SimulatedServer
from lab.patterns.limit_algorithms import AIMD, Gradient2, LatencyTarget, Vegas
from lab.patterns.limiter import AdaptiveLimiter, FixedLimit
from lab.patterns.limiter_middleware import aiohttp_limiter_middleware
from lab.patterns.monitoring import (
    RequestCollector,
    RequestMetrics,
    aiohttp_metrics_middleware,
    metrics_handler,
)
from lab.patterns.system_metrics import metrics_registry

__all__ = ["LoadControlSettings", "quick_settings", "run", "variants"]

Clock = Callable[[], float]
MakeLimiter = Callable[[Clock], AdaptiveLimiter | None]


@dataclass(frozen=True)
class LoadControlSettings:
    repeats: int = 3
    sim: SimSettings = field(default_factory=SimSettings)
    scenarios: tuple[str, ...] = ("step", "ramp", "drop")
    sim_variants: tuple[str, ...] = (
        "no limiter",
        "fixed(C)",
        "aimd",
        "vegas",
        "gradient2",
        "gradient2 per request",
        "latency-target",
    )
    http_capacity: int = 8
    http_service_s: float = 0.05
    http_light_s: float = 3.0
    http_heavy_s: float = 12.0
    http_variants: tuple[str, ...] = ("no limiter", "fixed(C)", "gradient2", "vegas")
    overhead_ops: int = 200_000
    #: Each round serves every endpoint of a stack at once, ``monitoring_rate`` requests/s
    #: each (open loop), for ``monitoring_s``.
    monitoring_rate: float = 800.0
    monitoring_s: float = 2.0
    monitoring_rounds: int = 5
    #: Requests per round (3 rounds) through each in-process stage of the monitoring part.
    monitoring_stage_ops: int = 20_000
    parts: tuple[str, ...] = ("convergence", "overload", "overhead", "monitoring")

    @classmethod
    def quick(cls) -> LoadControlSettings:
        return cls(
            repeats=2,
            # the full run's capacity and warm-up, so the limits settle as they do there;
            # a shorter window after the step (15 s, not 30)
            sim=SimSettings(capacity=50, before_s=10.0, after_s=15.0),
            scenarios=("step", "drop"),
            sim_variants=("no limiter", "fixed(C)", "vegas", "gradient2", "latency-target"),
            http_light_s=1.0,
            # Long enough for the unprotected queue to pass the clients' 2 s timeout and
            # stay there: goodput is counted over the whole overload, so a 4 s one gave
            # the no-limiter run 146 requests/s (the full run's 12 s: 48).
            http_heavy_s=8.0,
            http_variants=("no limiter", "gradient2"),  # the headline pair
            overhead_ops=50_000,
            monitoring_s=1.0,
            monitoring_rounds=3,
        )


def variants(capacity: int, service_s: float) -> dict[str, MakeLimiter]:
    """Each limiter under test, in reject mode, built on the run's clock."""
    top = 10 * capacity

    def adaptive(make: Callable[[], Any], **kw: Any) -> MakeLimiter:
        return lambda clock: AdaptiveLimiter(make(), mode="reject", clock=clock, **kw)

    return {
        "no limiter": lambda clock: None,
        "fixed(C)": adaptive(lambda: FixedLimit(capacity)),
        "aimd": adaptive(lambda: AIMD(20, max_limit=top, timeout_s=5 * service_s)),
        "vegas": adaptive(lambda: Vegas(20, max_limit=top)),
        "gradient2": adaptive(lambda: Gradient2(20, min_limit=1, max_limit=top)),
        "gradient2 per request": adaptive(
            lambda: Gradient2(20, min_limit=1, max_limit=top), window_s=0
        ),
        "latency-target": adaptive(lambda: LatencyTarget(1.5 * service_s, 20, max_limit=top)),
    }


# --- convergence, in virtual time ------------------------------------------------------


def _convergence(s: LoadControlSettings, repeat: int, progress: Callable[[str], None]) -> list[Row]:
    makers = variants(s.sim.capacity, s.sim.service_s)
    rows: list[Row] = []
    for name in s.scenarios:
        progress(f"load control: convergence, {name}, repeat {repeat + 1}/{s.repeats}")
        for variant in s.sim_variants:
            summary, timeline = simulate(SCENARIOS[name], makers[variant], s.sim, seed=repeat)
            head = {"part": "convergence", "scenario": name, "variant": variant, "repeat": repeat}
            rows.append({**head, "kind": "run", **summary})
            rows += [{**head, "kind": "timeline", **point} for point in timeline]
    return rows


# --- overload over real HTTP -----------------------------------------------------------


def _exact_timer(recorder: LatencyRecorder) -> Any:
    @web.middleware
    async def timed(request: web.Request, handler: Any) -> web.StreamResponse:
        began = time.perf_counter()
        try:
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            recorder.record_seconds(time.perf_counter() - began)

    return timed


async def _overload(variant: str, s: LoadControlSettings, repeat: int) -> list[Row]:
    make = variants(s.http_capacity, s.http_service_s)[variant]
    limiter = make(time.monotonic)
    metrics, exact = RequestMetrics(), LatencyRecorder()
    registry = metrics_registry(RequestCollector(metrics), system=False)
    middlewares = [aiohttp_metrics_middleware(metrics), _exact_timer(exact)]
    if limiter is not None:  # Prometheus' scrapes pass the limiter, as in lab serve
        middlewares.append(aiohttp_limiter_middleware(limiter, exempt=frozenset({"/metrics"})))
    model = ServerModel(
        service_s=s.http_service_s, distribution="lognormal", capacity=s.http_capacity, seed=repeat
    )
    full_rps = s.http_capacity / s.http_service_s
    arrivals = random.Random(repeat)
    sent: list[float] = []
    status: list[int] = []
    latency: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)  # the client must not be the limiter
    async with (
        SimulatedServer(
            model,
            middlewares=middlewares,
            shutdown_timeout_s=0.1,
            routes=[("/metrics", metrics_handler(registry))],
        ) as server,
        scraped(server.url) as watched,
        aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=2.0)
        ) as session,
    ):
        began = time.monotonic()

        async def one(at: float, index: int) -> None:
            try:
                async with session.get(server.url) as reply:
                    await reply.read()
                    status[index] = reply.status
            except (aiohttp.ClientError, TimeoutError):
                status[index] = 0  # timed out or failed
            latency[index] = time.monotonic() - began - at

        tasks, t, end = [], 0.0, s.http_light_s + s.http_heavy_s
        while True:
            share = 0.5 if t < s.http_light_s else 2.0
            t += arrivals.expovariate(full_rps * share)
            if t >= end:
                break
            delay = t - (time.monotonic() - began)
            if delay > 0:
                await asyncio.sleep(delay)
            sent.append(t)
            status.append(0)
            latency.append(float("nan"))
            tasks.append(asyncio.create_task(one(t, len(sent) - 1)))
        await asyncio.gather(*tasks)
        promql = await promql_quantiles(server.url, time.monotonic() - began) if watched else {}
    head = {"part": "overload", "variant": variant, "repeat": repeat}
    rows = [
        {
            **head,
            "kind": "run",
            **tables.overload_run(
                np.array(sent),
                np.array(status),
                np.array(latency),
                s.http_light_s,
                end,
                s.http_capacity,
            ),
        }
    ]
    if limiter is not None:
        rows += [
            {**head, "kind": "limit", "t_s": when - began, "limit": limit}
            for when, limit in limiter.stats.history
        ]
    for q in (0.5, 0.95, 0.99):
        rows.append(
            {
                "part": "quantiles",
                "variant": variant,
                "repeat": repeat,
                "q": q,
                "prometheus_ms": metrics.quantile(q, "GET", "/{tail}") * 1000,
                "promql_ms": promql.get(q, float("nan")),
                "hdr_ms": exact.percentile_ms(q * 100),
            }
        )
    return rows


# --- overhead per acquire + release ------------------------------------------------------


async def _overhead(s: LoadControlSettings, repeat: int) -> list[Row]:
    n = s.overhead_ops
    semaphore = asyncio.Semaphore(8)
    limiters = {
        "limiter, fixed limit": AdaptiveLimiter(FixedLimit(8)),
        "limiter, gradient2 (0.5 s windows)": AdaptiveLimiter(Gradient2(20, min_limit=1)),
        "limiter, aimd (every sample)": AdaptiveLimiter(AIMD(20)),
    }

    async def bare() -> None:
        for _ in range(n):
            async with semaphore:
                pass

    def through(limiter: AdaptiveLimiter) -> Callable[[], Any]:
        async def body() -> None:
            for _ in range(n):
                async with limiter:
                    pass

        return body

    async def direct() -> None:
        limiter = limiters["limiter, gradient2 (0.5 s windows)"]
        for _ in range(n):
            limiter.release(await limiter.acquire())

    bodies = {
        "asyncio.Semaphore": bare,
        **{k: through(v) for k, v in limiters.items()},
        "acquire() + release(), gradient2": direct,
    }
    costs = {}
    for variant, body in bodies.items():
        began = time.perf_counter_ns()
        await body()
        costs[variant] = (time.perf_counter_ns() - began) / n
    return [
        {
            "part": "overhead",
            "variant": variant,
            "repeat": repeat,
            "ns_per_op": ns,
            "vs_semaphore": ns / costs["asyncio.Semaphore"],
        }
        for variant, ns in costs.items()
    ]


# --- monitoring middleware cost ------------------------------------------------------------


async def _server_cpu_s(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(url.rstrip("/") + CPU_PATH) as reply:
        return float((await reply.json())["cpu_s"])


async def _drive_endpoint(url: str, rate: float, seconds: float) -> tuple[float, float]:
    """``rate`` requests/s, open loop, for ``seconds``: the rate achieved, and the server's
    CPU microseconds per request (CPU time is far less disturbed by a noisy neighbour than
    throughput is)."""
    async with aiohttp.ClientSession() as session:
        before = await _server_cpu_s(session, url)
        schedule = Schedule.constant(rate, seconds)
        result = await run_load(LoadSettings(url + "items/7", schedule=schedule, connections=8))
        used = await _server_cpu_s(session, url) - before
    if result.errors:
        raise RuntimeError(f"{result.errors} errors from {url}")
    return result.achieved_rps, 1e6 * used / max(1, result.requests)


async def _drive_together(
    urls: dict[str, str], rate: float, seconds: float
) -> dict[str, tuple[float, float]]:
    """Every endpoint at the same rate over the same seconds: a neighbour's burst, the CPU
    frequency and the caches' state hit all of them alike, so their CPU per request pairs
    up within a round. (Rounds one after another, closed loop, spread 76 to 132 us for
    the same plain endpoint in one run, wider than the 5 % being judged.)"""
    found = await asyncio.gather(*(_drive_endpoint(url, rate, seconds) for url in urls.values()))
    return dict(zip(urls, found, strict=True))


def _endpoints(stack: str) -> dict[str, Any]:
    return {variant: endpoint_process(stack, variant) for variant in VARIANTS[stack]}


def _rotated(served: dict[str, str], by: int) -> dict[str, str]:
    """The endpoints in another order each round: in an A/A check of four identical
    endpoints, some places read a few % below the first round after round, so no variant
    keeps one place."""
    names = list(served)
    by %= len(names)
    return {name: served[name] for name in names[by:] + names[:by]}


def _monitoring(s: LoadControlSettings, repeat: int) -> list[Row]:
    rows = []
    stacks = available_stacks()
    managers = {(stack, name): cm for stack in stacks for name, cm in _endpoints(stack).items()}
    with (
        contextlib.ExitStack() as started,
        ThreadPoolExecutor(len(managers)) as pool,
        new_runner() as runner,
    ):
        # Start every endpoint at once (each takes a second or so to import and listen).
        urls = dict(zip(managers, pool.map(started.enter_context, managers.values()), strict=True))
        for stack in stacks:
            served = {name: url for (of, name), url in urls.items() if of == stack}
            runner.run(_drive_together(served, s.monitoring_rate, 0.3))  # warm
            for round_ in range(s.monitoring_rounds):
                ordered = _rotated(served, round_ + repeat)
                measured = runner.run(_drive_together(ordered, s.monitoring_rate, s.monitoring_s))
                rows += [
                    {
                        "part": "monitoring",
                        "stack": stack,
                        "variant": name,
                        "repeat": repeat,
                        "round": round_,
                        "offered_rps": s.monitoring_rate,
                        "rps": rps,
                        "cpu_us_per_request": cpu_us,
                    }
                    for name, (rps, cpu_us) in measured.items()
                ]
    stages = stage_costs(s.monitoring_stage_ops)  # after the endpoints stopped: nothing else runs
    rows += [{"part": "monitoring_stages", "repeat": repeat, "stage": stage, "ns": ns}
             for stage, ns in stages.items()]  # fmt: skip
    return rows


@outside_event_loop
def run(
    *,
    quick: bool = False,
    settings: LoadControlSettings | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    s = chosen_settings(LoadControlSettings, settings, quick)
    say = progress or (lambda _: None)

    async def overload(s: LoadControlSettings, repeat: int) -> list[Row]:
        rows: list[Row] = []
        for variant in s.http_variants:
            rows += await _overload(variant, s, repeat)
        return rows

    parts: dict[str, Part[LoadControlSettings]] = {
        "convergence": lambda s, repeat: _convergence(s, repeat, say),
        "overload": overload,
        "overhead": _overhead,
        "monitoring": _monitoring,
    }
    order = [p for p in ("convergence", "overload", "overhead", "monitoring") if p in s.parts]
    return drive("load_control", s, order, parts, progress)


def quick_settings(**overrides: Any) -> LoadControlSettings:
    return replace(LoadControlSettings.quick(), **overrides)
