"""pytest-benchmark: pooled queries per engine and reset, and the database experiment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.benchmark_database import DatabaseBehaviour
from lab.config import endpoints
from lab.experiments.database import tables
from lab.harness.aio import new_runner
from lab.patterns.pool import DatabasePool
from tests.bench.asv_tracks import tracked_values


@pytest.fixture(params=["asyncpg full", "asyncpg none", "lean full", "lean none"])
def pool(request: pytest.FixtureRequest, postgres_up: None) -> Iterator[tuple[Any, Any]]:
    engine, reset = request.param.split()
    with new_runner() as runner:
        opened = DatabasePool(endpoints().postgres_dsn, min_size=4, max_size=4, engine=engine,
                              reset=reset)  # fmt: skip
        runner.run(opened.open())
        yield runner, opened
        runner.run(opened.close())


@pytest.mark.benchmark(group="database: 1000 pooled SELECT 1")
def test_1000_pooled_queries(benchmark: Any, pool: tuple[Any, DatabasePool]) -> None:
    runner, opened = pool

    async def queries() -> None:
        for _ in range(1_000):
            await opened.fetchval("SELECT 1")

    benchmark(lambda: runner.run(queries()))
    assert opened.stats.acquisitions >= 1_000 and opened.stats.in_use == 0


def test_database_experiment(benchmark: Any, postgres_up: None, quick_frame: Any) -> None:
    frame = quick_frame("database")
    benchmark.extra_info["asv"] = tracked_values(DatabaseBehaviour, frame)
    sizes = tables.pool_size_summary(frame)
    benchmark.extra_info["pool_sizes"] = sizes[["clients", "pool_size", "rps", "p99_ms"]].to_dict(
        "records"
    )
    per_clients = sizes.groupby("clients")  # one recommended and one best size per load
    assert (per_clients.recommended.sum() == 1).all()
    assert (per_clients.measured_best.sum() == 1).all()
