"""pytest-benchmark: @cached hits and misses per store, and the caching experiment."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.benchmark_caching import CachingBehaviour
from lab.config import endpoints
from lab.experiments.caching import tables
from lab.harness.aio import new_runner
from lab.patterns.caching import MemoryCache, RedisCache, TieredCache, cached
from tests.bench.asv_tracks import tracked_values


async def _value(x: int) -> dict[str, int]:
    return {"id": x}


@pytest.fixture(params=["memory", "redis", "redis coalesced", "tiered"])
def function(request: pytest.FixtureRequest, redis_up: None) -> Iterator[tuple[Any, Any]]:
    url = endpoints().redis_url
    store: Any = {
        "memory": lambda: MemoryCache(),
        "redis": lambda: RedisCache(url),
        "redis coalesced": lambda: RedisCache(url, coalesce=True),
        "tiered": lambda: TieredCache(RedisCache(url)),
    }[request.param]()
    with new_runner() as runner:
        yield runner, cached(store, ttl=600, namespace=uuid.uuid4().hex)(_value)
        runner.run(store.close())


@pytest.mark.benchmark(group="caching: 1000 hits")
def test_1000_hits(benchmark: Any, function: tuple[Any, Any]) -> None:
    runner, cached_value = function

    async def hits() -> None:
        for _ in range(1_000):
            await cached_value(1)

    benchmark(lambda: runner.run(hits()))
    assert cached_value.stats.origin_calls == 1


@pytest.mark.benchmark(group="caching: 1000 misses")
def test_1000_misses(benchmark: Any, function: tuple[Any, Any]) -> None:
    runner, cached_value = function
    keys = itertools.count()

    async def misses() -> None:
        for _ in range(1_000):
            await cached_value(next(keys))

    benchmark(lambda: runner.run(misses()))
    assert cached_value.stats.hits == 0


def test_caching_experiment(benchmark: Any, redis_up: None, quick_frame: Any) -> None:
    frame = quick_frame("caching")
    benchmark.extra_info["asv"] = tracked_values(CachingBehaviour, frame)
    cost = tables.cost_summary(frame)
    benchmark.extra_info["cost"] = cost[
        ["workload", "concurrency", "variant", "cost_vs_redis_py", "rate_vs_redis_benchmark"]
    ].to_dict("records")
    totals = tables.stampede_totals(frame).set_index(["mode", "callers"])
    assert totals.loc[("single-flight", 1000), "origin_calls_max"] == 1
    assert totals.loc[("single-flight", 1000), "origin_calls_min"] == 1
