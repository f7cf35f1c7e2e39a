"""pytest-benchmark: the baseline's round trips, and its Python/native ratios.

Plain `def` tests that drive one asyncio runner; every number comes from
`lab.experiments.baseline`. Run with `pytest --benchmark-only tests/bench`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.benchmark_baseline import PythonVsNative
from lab.experiments.baseline import measure, tables
from lab.harness.aio import new_runner
from tests.bench.asv_tracks import tracked_values


@pytest.fixture(scope="module")
def runner(all_up: None) -> Iterator[Any]:
    with new_runner() as opened:
        yield opened


@pytest.mark.parametrize("concurrency", [1, 32])
@pytest.mark.parametrize("cell", ["redis get", "postgres pk_lookup", "kafka produce"])
def test_200_round_trips(benchmark: Any, runner: Any, cell: str, concurrency: int) -> None:
    service, operation = cell.split()
    session = measure.session(service, concurrency)
    if service == "postgres":
        measure.ensure_pgbench_tables(session.ep)
    runner.run(session.open())
    try:
        op = session.ops[operation]
        benchmark(lambda: runner.run(measure.run_batch(op, 200, concurrency)))
    finally:
        runner.run(session.close())


def test_python_to_native_ratios(benchmark: Any, all_up: None, quick_frame: Any) -> None:
    frame = quick_frame("baseline")
    benchmark.extra_info["asv"] = tracked_values(PythonVsNative, frame)
    table = tables.ratios(frame)
    benchmark.extra_info["ratios"] = table[
        ["service", "operation", "concurrency", "ratio", "ratio_min", "ratio_max", "runs"]
    ].to_dict("records")
    compared = table[table.runs > 0]
    assert (compared.ratio > 0).all()
