"""pytest-benchmark: the reference service's experiment, run once; and what a worker of
``lab serve --workers N`` pays to publish its metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.benchmark_service import ServiceBehaviour
from lab.experiments.service import tables
from lab.patterns.monitoring import RequestCollector, RequestMetrics
from lab.patterns.monitoring_multiprocess import MultiprocessMetrics, scrape_registry
from tests.bench.asv_tracks import tracked_values


def test_service_experiment(benchmark: Any, all_up: None, quick_frame: Any) -> None:
    frame = quick_frame("service")
    benchmark.extra_info["asv"] = tracked_values(ServiceBehaviour, frame)
    targets = tables.targets(frame)
    benchmark.extra_info["targets"] = targets.to_dict("records")
    assert set(targets.variant) == {"optimized", "naive"}
    assert {"ramp", "search", "fault"} <= set(frame.part)


@pytest.mark.benchmark(group="service: multiprocess metrics")
def test_flush_of_one_workers_request_metrics(benchmark: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics = RequestMetrics()
    for route in range(20):
        for status in (200, 404, 500):
            metrics.observe(metrics.started("GET"), f"/r{route}", status, 0.003)
    files = MultiprocessMetrics([RequestCollector(metrics)], process_id=7)
    benchmark(files.flush)
    text = generate_latest(scrape_registry()).decode()
    counted = sum(sample.value for family in text_string_to_metric_families(text)
                  for sample in family.samples if sample.name == "http_requests_total")  # fmt: skip
    assert counted == 60  # however many times it was flushed
