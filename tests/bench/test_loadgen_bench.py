"""pytest-benchmark: the open-loop generator's cost, and the generator comparison."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.benchmark_loadgen import GeneratorComparison
from lab.experiments.loadgen import tables
from lab.harness.aio import new_runner
from lab.harness.loadgen import LoadSettings, Schedule, run_load
from lab.harness.simulate import ServerModel, server_process
from tests.bench.asv_tracks import tracked_values


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with server_process(ServerModel()) as found:
        yield found


def test_open_loop_2000_requests(benchmark: Any, url: str) -> None:
    settings = LoadSettings(url, schedule=Schedule.constant(4000, 0.5))
    with new_runner() as runner:
        result = benchmark(lambda: runner.run(run_load(settings)))
    assert result.requests + result.dropped == 2000


def test_generator_comparison(benchmark: Any, quick_frame: Any) -> None:
    frame = quick_frame("loadgen")
    benchmark.extra_info["asv"] = tracked_values(GeneratorComparison, frame)
    table = tables.summary(frame)
    benchmark.extra_info["summary"] = table.fillna(-1).to_dict("records")
    assert set(table.scenario) == {"accuracy", "stall", "saturation", "tls"}
    assert (frame.requests > 0).all()
    tls = frame[frame.scenario == "tls"]
    assert set(tls.tool) == {"lab-open http", "lab-open https"} and tls.errors.sum() == 0
    assert tls.requests.nunique() == 1  # the same schedule over both
    rows = table.set_index(["scenario", "tool"])
    assert rows.loc[("tls", "lab-open https"), "cpu_vs_plain_http"] > 0
