"""pytest-benchmark: the breaker's cost per call, and the resilience experiment."""

from __future__ import annotations

import contextlib
from typing import Any

from benchmarks.benchmark_resilience import BreakerBehaviour
from lab.errors import CircuitOpenError
from lab.experiments.resilience import tables
from lab.harness.aio import new_runner
from lab.patterns.breaker import CircuitBreaker, CircuitState
from tests.bench.asv_tracks import tracked_values


async def _noop() -> int:
    return 200


def test_10000_closed_calls(benchmark: Any) -> None:
    breaker = CircuitBreaker()

    async def calls() -> None:
        for _ in range(10_000):
            await breaker.call(_noop)

    with new_runner() as runner:
        benchmark(lambda: runner.run(calls()))
    assert breaker.state is CircuitState.CLOSED and breaker.stats.successes >= 10_000


def test_10000_rejections(benchmark: Any) -> None:
    breaker = CircuitBreaker()
    breaker.force_open()

    async def calls() -> None:
        for _ in range(10_000):
            with contextlib.suppress(CircuitOpenError):
                await breaker.call(_noop)

    with new_runner() as runner:
        benchmark(lambda: runner.run(calls()))
    assert breaker.stats.rejected >= 10_000


def test_resilience_experiment(benchmark: Any, quick_frame: Any) -> None:
    frame = quick_frame("resilience")
    benchmark.extra_info["asv"] = tracked_values(BreakerBehaviour, frame)
    table = tables.summary(frame)
    benchmark.extra_info["summary"] = (
        table.astype(object).where(table.notna(), None).to_dict("records")
    )
    assert {"outage", "slowdown", "overhead", "bounded", "memory"} <= set(table.scenario)
