"""Multiprocess metrics: several workers (played by process ids in one process) write
their collectors' figures to prometheus_client's files; a scrape merges them."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from lab.errors import ConfigError
from lab.patterns.monitoring import RequestCollector, RequestMetrics
from lab.patterns.monitoring_multiprocess import (
    MultiprocessMetrics,
    gauge_mode,
    mark_process_dead,
    scrape_registry,
)


@pytest.fixture
def metrics_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(scrape_registry()).decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples}  # fmt: skip


def served(metrics: RequestMetrics, route: str, *durations: float, status: int = 200) -> None:
    for seconds in durations:
        method = metrics.started("GET")
        metrics.observe(method, route, status, seconds)


def worker(pid: int) -> tuple[RequestMetrics, MultiprocessMetrics]:
    metrics = RequestMetrics(buckets=(0.01, 0.1))
    return metrics, MultiprocessMetrics([RequestCollector(metrics)], process_id=pid)


GET_A = (("method", "GET"), ("route", "/a"), ("status", "2xx"))
BY_ROUTE = (("method", "GET"), ("route", "/a"))


def bucket(le: str) -> tuple[tuple[str, str], ...]:
    return (("le", le), *BY_ROUTE)


def test_counters_and_histograms_add_up_over_workers(metrics_dir: Path) -> None:
    first, first_files = worker(1001)
    second, second_files = worker(1002)
    served(first, "/a", 0.005, 0.05)
    served(second, "/a", 0.005, 0.5, 0.5)
    served(second, "/b", 0.005, status=404)
    first_files.flush()
    second_files.flush()
    found = scrape()
    assert found[("http_requests_total", GET_A)] == 5
    assert found[("http_requests_total", (("method", "GET"), ("route", "/b"),
                                          ("status", "4xx")))] == 1  # fmt: skip
    assert found[("http_request_duration_seconds_bucket", bucket("0.01"))] == 2
    assert found[("http_request_duration_seconds_bucket", bucket("0.1"))] == 3
    assert found[("http_request_duration_seconds_bucket", bucket("+Inf"))] == 5
    assert found[("http_request_duration_seconds_count", BY_ROUTE)] == 5
    assert found[("http_request_duration_seconds_sum", BY_ROUTE)] == pytest.approx(1.06)


def test_a_flush_writes_totals_so_repeating_it_counts_nothing_twice(metrics_dir: Path) -> None:
    metrics, files = worker(2001)
    served(metrics, "/a", 0.005)
    files.flush()
    files.flush()
    served(metrics, "/a", 0.005)
    files.flush()
    assert scrape()[("http_requests_total", GET_A)] == 2


def test_an_exited_worker_keeps_its_counts_but_not_its_gauges(metrics_dir: Path) -> None:
    first, first_files = worker(3001)
    second, second_files = worker(3002)
    served(first, "/a", 0.005)
    served(second, "/a", 0.005, 0.005)
    first.started("GET")  # one request in progress in each
    second.started("GET")
    first_files.flush()
    second_files.flush()
    assert scrape()[("http_requests_in_progress", (("method", "GET"),))] == 2
    mark_process_dead(3002)
    found = scrape()
    assert found[("http_requests_total", GET_A)] == 3
    assert found[("http_requests_in_progress", (("method", "GET"),))] == 1


def test_gauge_modes_sum_what_workers_hold_and_max_what_the_machine_reads() -> None:
    assert gauge_mode("http_requests_in_progress") == "livesum"
    assert gauge_mode("lab_db_pool_connections") == "livesum"
    assert gauge_mode("lab_process_cpu_percent") == "livesum"
    assert gauge_mode("lab_system_cpu_percent") == "livemax"
    assert gauge_mode("lab_memory_limit_bytes") == "livemax"
    assert gauge_mode("lab_db_pool_utilization") == "livemax"


def test_without_a_metrics_folder_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        MultiprocessMetrics([], process_id=1)
