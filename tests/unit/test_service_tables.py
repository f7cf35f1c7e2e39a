"""The service experiment's tables from hand-made rows: verdict counting, margins, the
search's best rate, and the error budget arithmetic."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lab.experiments.service import tables
from lab.harness.slo_objectives import Objective


def _verdict(variant: str, repeat: int, metric: str, bound: str, target: float,
             measured: float) -> dict[str, object]:  # fmt: skip
    passed = measured < target if bound == "below" else measured > target
    return {"part": "ramp", "kind": "verdict", "variant": variant, "repeat": repeat,
            "metric": metric, "bound": bound, "target": target, "measured": measured,
            "passed": passed}  # fmt: skip


def test_verdicts_count_repeats_and_sign_the_margin() -> None:
    frame = pd.DataFrame([
        _verdict("optimized", 0, "latency_p99_ms", "below", 1000, 200),
        _verdict("optimized", 1, "latency_p99_ms", "below", 1000, 1200),
        _verdict("optimized", 2, "latency_p99_ms", "below", 1000, 300),
        _verdict("optimized", 0, "throughput_rps", "above", 1000, 1010),
        _verdict("optimized", 1, "throughput_rps", "above", 1000, 1005),
        _verdict("optimized", 2, "throughput_rps", "above", 1000, 1020),
    ])  # fmt: skip
    table = tables.verdicts(frame).set_index("metric")
    assert table.loc["latency_p99_ms", "verdict"] == "passed 2 of 3"
    assert table.loc["latency_p99_ms", "measured"] == 300
    assert table.loc["latency_p99_ms", "margin"] == 700
    assert table.loc["throughput_rps", "verdict"] == "pass"
    assert table.loc["throughput_rps", "margin"] == 10
    unmeasured = pd.DataFrame([{**_verdict("naive", 0, "cpu_percent", "below", 70, 1.0),
                                "measured": float("nan"), "passed": None}])  # fmt: skip
    assert tables.verdicts(unmeasured).verdict.tolist() == ["not measured"]
    targets = tables.targets(frame)
    assert targets.iloc[0].lines == 2 and targets.iloc[0].lines_passed_every_repeat == 1
    assert not targets.iloc[0].met
    assert tables.slo_metrics(frame) == {"latency_p99_ms": 300.0, "throughput_rps": 1010.0}


def test_search_takes_the_largest_rate_met_and_zero_when_none() -> None:
    rows = [{"part": "search", "variant": "optimized", "repeat": 0, "rate": r, "met": m}
            for r, m in ((100, True), (1550, False), (825, True), (1187.5, True))]  # fmt: skip
    rows += [{"part": "search", "variant": "naive", "repeat": 0, "rate": 100, "met": False}]
    table = tables.search_summary(pd.DataFrame(rows)).set_index("variant")
    assert table.loc["optimized", "max_rate_meeting_slo"] == 1187.5
    assert table.loc["naive", "max_rate_meeting_slo"] == 0


def test_error_budget_per_objective_of_slo_yaml() -> None:
    seconds = [{"part": "fault", "kind": "second", "repeat": 0, "t_s": t, "rps": 100,
                "errors": 1 if t == 3 else 0, "over_1s": 2 if t == 4 else 0,
                "over_500ms": 5 if t == 4 else 0, "p99_ms": 5.0}
               for t in range(10)]  # fmt: skip
    budget = tables.error_budget(pd.DataFrame(seconds)).set_index("objective")
    assert list(budget.index) == ["availability", "latency"]  # slo.yaml's, in its order
    assert (budget.requests == 1000).all()
    # 99.9 % available: 1 failure of 1,000 requests is the whole budget
    assert budget.loc["availability", "bad"] == 1
    assert budget.loc["availability", "budget_spent"] == pytest.approx(1.0)
    # 99 % within 1 s: 2 slow of the 10 allowed
    assert budget.loc["latency", "budget_spent"] == pytest.approx(0.2)
    # another objective re-judges the same stored seconds
    stricter = [Objective("fast", "latency", 99.0, 86_400, threshold_s=0.5)]
    again = tables.error_budget(pd.DataFrame(seconds), stricter).iloc[0]
    assert again.bad == 5 and again.budget_spent == pytest.approx(0.5)


def test_a_fault_run_that_answered_nothing_spent_no_measured_budget() -> None:
    seconds = [{"part": "fault", "kind": "second", "repeat": 0, "t_s": t, "rps": 0,
                "errors": 0, "over_1s": 0, "p99_ms": float("nan")} for t in range(3)]  # fmt: skip
    budget = tables.error_budget(pd.DataFrame(seconds))
    assert (budget.requests == 0).all() and budget.budget_spent.isna().all()


def test_the_default_slo_file_is_the_projects_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook runs in a folder of its own: slo.yaml is then the repository's."""
    from lab.experiments.service.measure import default_slo_path

    monkeypatch.chdir(tmp_path)
    assert default_slo_path() == Path(__file__).resolve().parents[2] / "slo.yaml"
    assert default_slo_path().is_file()


def test_a_run_without_prometheus_says_how_to_start_it() -> None:
    rows = [{"part": "ramp", "kind": "verdict", "variant": "optimized", "repeat": 0,
             "metric": "latency_p99_ms", "bound": "below", "target": 1000.0, "measured": 80.0,
             "passed": True, "prometheus": float("nan"), "prometheus_answered": False}]  # fmt: skip
    table = tables.prometheus_beside(pd.DataFrame(rows))
    assert "lab services up --only prometheus" in table.prometheus.iloc[0]
    assert tables.prometheus_beside(pd.DataFrame(rows).drop(columns="prometheus")).empty


def test_bucket_index_puts_an_edge_in_the_bucket_it_closes() -> None:
    # the request histogram's edges include 100, 150 and 200 ms
    assert tables.bucket_index(100.0) == tables.bucket_index(99.0)
    next_one = tables.bucket_index(100.0) + 1
    assert tables.bucket_index(100.1) == tables.bucket_index(150.0) == next_one
    assert tables.bucket_index(1e9) == len(tables.REQUEST_BUCKETS_S)  # +Inf
    assert pd.isna(tables.bucket_index(float("nan")))


def test_prometheus_beside_counts_buckets_between_the_two_p99s() -> None:
    def row(repeat: int, generator: float, prometheus: float, metric: str = "latency_p99_ms"
            ) -> dict[str, object]:  # fmt: skip
        return {
            **_verdict("optimized", repeat, metric, "below", 1000, generator),
            "prometheus": prometheus,
            "prometheus_answered": True,
        }

    frame = pd.DataFrame([row(0, 90.0, 95.0), row(1, 90.0, 140.0), row(2, 90.0, 99.0),
                          row(0, 1010.0, 1000.0, "throughput_rps")])  # fmt: skip
    table = tables.prometheus_beside(frame).set_index("metric")
    assert table.loc["latency_p99_ms", "buckets_apart_max"] == 1  # 90 and 140: 100 between
    assert table.loc["latency_p99_ms", "runs"] == 3
    assert pd.isna(table.loc["throughput_rps", "buckets_apart_max"])  # not a latency


def test_burn_alerts_judge_a_clean_ramp_and_the_overload() -> None:
    frame = pd.DataFrame([
        {"part": "ramp", "kind": "alerts", "variant": "optimized", "repeat": 0,
         "alerts_watched": True, "alert_scale": 60.0, "fast_burn_seconds": 0},
        {"part": "overload", "kind": "summary", "repeat": 0, "alerts_watched": True,
         "alert_scale": 60.0, "fast_burn_seconds": 40, "fast_burn_after_failures_s": 3.0},
        {"part": "overload", "kind": "summary", "repeat": 1, "alerts_watched": True,
         "alert_scale": 60.0, "fast_burn_seconds": 38, "fast_burn_after_failures_s": 5.0},
    ])  # fmt: skip
    table = tables.burn_alerts(frame).set_index("run")
    assert table.loc["ramp, optimized", "fast_burn_seconds"] == 0
    assert table.loc["ramp, optimized", "target"] == "never fires"
    overload = table.loc["overload"]
    assert overload.runs == 2 and overload.fired_after_failures_s == 4.0
    assert overload.fired_after_failures_s_max == 5.0
    assert overload.bound_s == 10.0  # two of the fast burn's 5 min windows, ÷60
    unwatched = frame.assign(alerts_watched=False)
    assert "lab services up" in tables.burn_alerts(unwatched).alerts.iloc[0]


def test_counts_beside_compare_the_generators_failures_with_prometheus_5xx() -> None:
    summary = {"part": "overload", "kind": "summary", "repeat": 0, "generator_requests": 1000,
               "prometheus_requests": 1000, "generator_5xx": 90, "prometheus_5xx": 90,
               "generator_failed": 100}  # fmt: skip
    row = tables.counts_beside(pd.DataFrame([summary])).iloc[0]
    assert row.equal_5xx and not row.equal_ratio  # the 10 timeouts are not 5xx
    assert row.generator_error_percent == 10 and row.prometheus_error_percent == 9
    older = pd.DataFrame([{k: v for k, v in summary.items() if "prometheus" not in k}])
    assert tables.counts_beside(older).empty  # a run from before Prometheus was counted
