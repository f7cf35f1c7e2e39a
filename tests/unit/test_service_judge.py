"""The service experiment's SLO judgement from a hand-made load result: a service that
answers errors fast ends every request it is sent and serves none of them."""

from __future__ import annotations

from collections import Counter

from lab.experiments.service.measure import ServiceExperimentSettings, _meets, judge
from lab.harness.loadgen import LoadResult


def _result(per_second: int, errors_per_second: int, seconds: int = 6) -> LoadResult:
    result = LoadResult(settings={}, elapsed_s=float(seconds), scheduled=per_second * seconds)
    for index in range(seconds):
        second = result.second(index)
        for _ in range(per_second):
            second.latency.record_ns(2_000_000)  # 2 ms: fast, answered or not
            result.latency.record_ns(2_000_000)
        second.requests, second.errors = per_second, errors_per_second
    result.requests = per_second * seconds
    result.error_counts = Counter({"status 500": errors_per_second * seconds})
    result.status_counts = Counter({"200": (per_second - errors_per_second) * seconds,
                                    "500": errors_per_second * seconds})  # fmt: skip
    return result


def _line(verdicts: list[dict[str, object]], metric: str) -> dict[str, object]:
    return next(v for v in verdicts if v["metric"] == metric)


def test_throughput_counts_only_answers_without_error() -> None:
    settings = ServiceExperimentSettings()
    served = judge(_result(1100, 0), [], (1, 5), settings.slo_path)
    erring = judge(_result(1100, 1000), [], (1, 5), settings.slo_path)
    assert _line(served, "throughput_rps")["measured"] == 1100
    assert _line(served, "throughput_rps")["passed"] is True
    assert _line(erring, "throughput_rps")["measured"] == 100  # 1100 ended, 100 answered
    assert _line(erring, "throughput_rps")["passed"] is False
    assert _line(erring, "latency_p99_ms")["passed"] is True  # the errors were fast


def test_the_search_does_not_count_a_rate_answered_with_errors() -> None:
    settings = ServiceExperimentSettings(search_run_s=6.0)
    met, failing = _meets(_result(100, 0), [], settings, 100.0)
    assert met and failing == []
    met, failing = _meets(_result(100, 60), [], settings, 100.0)
    assert not met and failing == ["rate not answered without error"]


def test_the_search_judges_the_rate_answered_in_its_window_not_over_the_last_answers() -> None:
    """A 4 s probe whose last answers end 0.4 s after it: over the whole run that reads
    10 % under the rate, in the judged window every request was answered."""
    settings = ServiceExperimentSettings(search_run_s=4.0)
    late = _result(825, 0, seconds=4)
    late.elapsed_s = 4.4
    assert late.succeeded_rps < 0.95 * 825
    met, failing = _meets(late, [], settings, 825.0)
    assert met and failing == []
    behind = _result(700, 0, seconds=4)  # answered, but 15 % under the rate each second
    met, failing = _meets(behind, [], settings, 825.0)
    assert not met and failing == ["rate not answered without error"]
