"""pytest-benchmark: the limiter's cost beside asyncio.Semaphore, request metrics, and the
load-control experiment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from benchmarks.benchmark_load_control import LimiterBehaviour
from lab.experiments.load_control import tables
from lab.harness.aio import new_runner
from lab.patterns.limit_algorithms import AIMD, Gradient2
from lab.patterns.limiter import AdaptiveLimiter
from lab.patterns.monitoring import RequestMetrics
from tests.bench.asv_tracks import tracked_values


@pytest.mark.benchmark(group="limiter: 10,000 uncontended entries")
@pytest.mark.parametrize("guard", ["asyncio.Semaphore", "gradient2", "aimd"])
def test_10000_entries(benchmark: Any, guard: str) -> None:
    if guard == "asyncio.Semaphore":
        gate: Any = asyncio.Semaphore(8)
    else:
        gate = AdaptiveLimiter(Gradient2(20, min_limit=1) if guard == "gradient2" else AIMD(20))

    async def entries() -> None:
        for _ in range(10_000):
            async with gate:
                pass

    with new_runner() as runner:
        benchmark(lambda: runner.run(entries()))
    if isinstance(gate, AdaptiveLimiter):
        assert gate.in_flight == 0 and gate.stats.acquired >= 10_000


@pytest.mark.benchmark(group="monitoring")
def test_10000_request_observations(benchmark: Any) -> None:
    metrics = RequestMetrics()

    def observe() -> None:
        for _ in range(10_000):
            method = metrics.started("GET")
            metrics.observe(method, "/api/users/{id}", 200, 0.012)

    benchmark(observe)
    assert metrics.requests[("GET", "/api/users/{id}", "2xx")] >= 10_000
    assert metrics.in_progress["GET"] == 0


def test_load_control_experiment(benchmark: Any, quick_frame: Any) -> None:
    frame = quick_frame("load_control")
    benchmark.extra_info["asv"] = tracked_values(LimiterBehaviour, frame)
    targets = tables.targets(frame)
    benchmark.extra_info["targets"] = targets.to_dict("records")
    assert len(targets) == 7  # the server-handler and access-log forms beside the middleware
    assert {
        "convergence",
        "overload",
        "overhead",
        "monitoring",
        "monitoring_stages",
        "quantiles",
    } <= set(frame.part)
