"""The generator's metrics for Prometheus, read from a live result at each scrape."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from lab.harness.loadgen.metrics import serve_metrics
from lab.harness.loadgen.result import LoadResult


def _result() -> LoadResult:
    result = LoadResult(settings={})
    result.scheduled, result.requests, result.dropped = 12, 10, 2
    for milliseconds in (0.5, 3, 3, 40, 40, 40, 700, 700, 700):
        result.latency.record_ns(int(milliseconds * 1e6))
    result.status_counts.update({"200": 8, "503": 1})
    result.error_counts.update({"status 503": 1, "timeout": 1})
    return result


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples}


def test_a_scrape_reads_the_live_result() -> None:
    live: list[LoadResult] = []
    with serve_metrics(0, lambda: live[0] if live else None) as url:
        assert not any(name.startswith("lab_loadtest") for name, _ in _scrape(url))  # not started
        live.append(_result())
        found = _scrape(url)
        live[0].requests += 5  # the run goes on: the next scrape sees it
        later = _scrape(url)
    assert found[("lab_loadtest_requests_total", ())] == 10
    assert later[("lab_loadtest_requests_total", ())] == 15
    assert found[("lab_loadtest_dropped_total", ())] == 2
    assert found[("lab_loadtest_errors_total", (("kind", "timeout"),))] == 1
    assert found[("lab_loadtest_responses_total", (("status", "503"),))] == 1
    bucket = "lab_loadtest_latency_seconds_bucket"
    assert found[(bucket, (("le", "0.001"),))] == 1
    assert found[(bucket, (("le", "0.05"),))] == 6
    assert found[(bucket, (("le", "1.0"),))] == found[(bucket, (("le", "+Inf"),))] == 9
    assert found[("lab_loadtest_latency_seconds_count", ())] == 9
