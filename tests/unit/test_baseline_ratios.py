from __future__ import annotations

import math

import pandas as pd

from lab.experiments.baseline.tables import ratios, slo_metrics


def _row(service: str, op: str, c: int, repeat: int, client: str, rate: float) -> dict[str, object]:
    return {
        "service": service, "operation": op, "concurrency": c, "repeat": repeat,
        "client": client, "tool": f"{client}-tool", "ops": 100, "throughput_ops_s": rate,
        "latency_ms_p50": 1.0 + repeat, "latency_ms_p99": 2.0 + repeat,
    }  # fmt: skip


def _frame() -> pd.DataFrame:
    rows = []
    for repeat, (py, nat) in enumerate([(50.0, 100.0), (30.0, 100.0), (90.0, 100.0)]):
        rows.append(_row("redis", "get", 32, repeat, "python", py))
        rows.append(_row("redis", "get", 32, repeat, "native", nat))
        rows.append(_row("kafka", "produce", 1, repeat, "python", 10.0))
        rows.append(_row("kafka", "produce", 32, repeat, "python", 40.0))
        rows.append(_row("kafka", "roundtrip", 32, repeat, "python", 20.0))
        rows.append(_row("kafka", "produce", 0, repeat, "native", 80.0))
    return pd.DataFrame(rows)


def test_ratio_is_taken_per_repeat_then_summarised() -> None:
    table = ratios(_frame()).set_index(["service", "operation", "concurrency"])
    redis = table.loc[("redis", "get", 32)]
    assert (redis.ratio, redis.ratio_min, redis.ratio_max, redis.runs) == (0.5, 0.3, 0.9, 3)
    assert redis.python_ops_s == 50.0 and redis.native_ops_s == 100.0
    assert redis.p50_ms == 2.0


def test_a_shared_native_ceiling_serves_every_concurrency() -> None:
    table = ratios(_frame()).set_index(["service", "operation", "concurrency"])
    assert table.loc[("kafka", "produce", 1)].ratio == 0.125
    assert table.loc[("kafka", "produce", 32)].ratio == 0.5


def test_a_cell_without_native_tool_is_kept_without_ratio() -> None:
    table = ratios(_frame()).set_index(["service", "operation", "concurrency"])
    roundtrip = table.loc[("kafka", "roundtrip", 32)]
    assert math.isnan(roundtrip.ratio)
    assert roundtrip.runs == 0 and roundtrip.native_tool == "(none)"
    assert len(table) == 4


def test_slo_metrics_report_peak_connections_only_when_measured() -> None:
    frame = _frame()
    assert slo_metrics(frame) == {}
    frame["db_connections_percent"] = [5.0] * (len(frame) - 1) + [16.0]
    assert slo_metrics(frame) == {"db_connections_percent": 16.0}
