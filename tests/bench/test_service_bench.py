"""pytest-benchmark: the reference service's experiment, run once."""

from __future__ import annotations

from typing import Any

from lab.experiments import service, service_tables


def test_service_experiment(benchmark: Any, all_up: None) -> None:
    frame = benchmark.pedantic(service.run, kwargs={"quick": True}, rounds=1, iterations=1)
    targets = service_tables.targets(frame)
    benchmark.extra_info["targets"] = targets.to_dict("records")
    assert set(targets.variant) == {"optimized", "naive"}
    assert {"ramp", "search", "fault"} <= set(frame.part)
