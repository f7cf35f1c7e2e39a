from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.errors import ConfigError
from lab.harness.loadgen.result import LoadResult, merge_results


def _result(latencies_ms: list[float], errors: int = 0, elapsed: float = 2.0) -> LoadResult:
    result = LoadResult(settings={"mode": "open", "url": "http://x/"}, started_utc="t0",
                        elapsed_s=elapsed)  # fmt: skip
    for index, ms in enumerate(latencies_ms):
        second = result.second(index % 2)
        result.latency.record_ns(int(ms * 1e6))
        second.latency.record_ns(int(ms * 1e6))
        second.requests += 1
        result.requests += 1
        result.status_counts["200"] += 1
    for _ in range(errors):
        result.requests += 1
        result.error_counts["timeout"] += 1
        result.second(0).errors += 1
    result.scheduled = result.requests + 1
    result.dropped = 1
    return result


def test_json_has_the_documented_top_level_fields() -> None:
    data = _result([10.0, 20.0, 30.0], errors=1).to_json()
    assert {"requests", "errors", "dropped", "achieved_rps", "latency_ms", "settings",
            "timeline", "histogram"} <= set(data)  # fmt: skip
    assert set(data["latency_ms"]) >= {"p50", "p90", "p95", "p99", "p999", "max"}
    assert (data["requests"], data["errors"], data["dropped"]) == (4, 1, 1)
    assert data["achieved_rps"] == 2.0
    assert [entry["second"] for entry in data["timeline"]] == [0, 1]
    json.dumps(data)  # serialisable as it is


def test_json_round_trip_is_exact() -> None:
    original = _result([1.0, 2.0, 500.0], errors=2)
    copy = LoadResult.from_json(json.loads(json.dumps(original.to_json())))
    assert copy.to_json() == original.to_json()


def test_merge_adds_counts_and_histograms_exactly() -> None:
    a, b = _result([10.0] * 99 + [1000.0]), _result([10.0] * 100, errors=3, elapsed=2.5)
    merged = merge_results([a, b])
    assert merged.requests == a.requests + b.requests
    assert merged.errors == 3 and merged.dropped == 2
    assert merged.latency.count == 200
    assert merged.latency_ms()["max"] == pytest.approx(1000.0, rel=1e-3)
    assert merged.elapsed_s == 2.5
    assert merged.timeline[0].requests == a.timeline[0].requests + b.timeline[0].requests
    everything = _result([10.0] * 199 + [1000.0])
    assert merged.latency.summary() == everything.latency.summary()


def test_reading_a_file_that_is_not_a_result(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "something else"}')
    with pytest.raises(ConfigError, match="not a lab loadtest result"):
        LoadResult.read(bad)
    bad.write_text("not json")
    with pytest.raises(ConfigError, match="is not JSON"):
        LoadResult.read(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        LoadResult.read(tmp_path / "missing.json")


def test_slo_metrics_of_a_run() -> None:
    metrics = _result([10.0] * 9, errors=1).slo_metrics()
    assert metrics["error_rate_percent"] == 10.0
    # 10 requests ended over 2 s, one of them an error: the SLO's throughput counts the 9
    # answered without error, and the generator's achieved rate all 10.
    assert metrics["throughput_rps"] == 4.5
    assert _result([10.0] * 9, errors=1).achieved_rps == 5.0
    assert "concurrent_users" not in metrics  # an open loop has no users


def test_merge_aligns_parts_on_their_start_and_keeps_request_names() -> None:
    a, b = _result([10.0, 20.0]), _result([30.0, 40.0], errors=1)
    a.started_unix_s, b.started_unix_s = 1000.0, 1002.0  # b started two seconds later
    for part, ms in ((a, 10.0), (b, 30.0)):
        named = part.named("profile")
        named.requests, named.errors = 2, 1
        named.latency.record_ns(int(ms * 1e6))
    merged = merge_results([a, b])
    assert merged.started_unix_s == 1000.0 and merged.elapsed_s == 4.0  # 2 s offset + 2 s
    assert [s.requests for s in merged.timeline] == [
        1,
        1,
        1,
        1,
    ]  # b in seconds 2-3, not 0-1
    profile = merged.by_name["profile"]
    assert (profile.requests, profile.errors, profile.latency.count) == (4, 2, 2)
    copy = LoadResult.from_json(json.loads(json.dumps(merged.to_json())))
    assert copy.to_json() == merged.to_json()
    assert copy.slo_metrics()["error_rate_percent[profile]"] == 50.0
