"""pytest-benchmark: the reference service's experiment, run once."""

from __future__ import annotations

from typing import Any

from benchmarks.benchmark_service import ServiceBehaviour
from lab.experiments import service, service_tables
from tests.bench.asv_tracks import tracked_values


def test_service_experiment(benchmark: Any, all_up: None) -> None:
    frame = benchmark.pedantic(service.run, kwargs={"quick": True}, rounds=1, iterations=1)
    benchmark.extra_info["asv"] = tracked_values(ServiceBehaviour, frame)
    targets = service_tables.targets(frame)
    benchmark.extra_info["targets"] = targets.to_dict("records")
    assert set(targets.variant) == {"optimized", "naive"}
    assert {"ramp", "search", "fault"} <= set(frame.part)
