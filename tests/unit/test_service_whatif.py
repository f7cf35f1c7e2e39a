"""The SLO notebook's what-if: a stored run's lines re-judged against other targets, and
the fault run's budget re-priced for other objectives, without a server."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.errors import ConfigError
from lab.experiments.service import whatif


def _verdict(repeat: int, metric: str, bound: str, target: float, measured: float
             ) -> dict[str, object]:  # fmt: skip
    passed = measured < target if bound == "below" else measured > target
    return {"part": "ramp", "kind": "verdict", "variant": "optimized", "repeat": repeat,
            "metric": metric, "bound": bound, "target": target, "measured": measured,
            "passed": passed}  # fmt: skip


FRAME = pd.DataFrame(
    [_verdict(r, "latency_p99_ms", "below", 1000, p99) for r, p99 in enumerate((80, 120, 95))]
    + [_verdict(r, "throughput_rps", "above", 1000, 1040) for r in range(3)]
    + [{"part": "fault", "kind": "second", "repeat": 0, "t_s": t, "rps": 1000,
        "errors": 1 if t < 2 else 0, "over_1s": 5 if t == 3 else 0} for t in range(10)]
)  # fmt: skip


def test_a_tighter_target_rejudges_each_repeat_and_the_bound_stays() -> None:
    before = whatif.rejudge(FRAME).set_index("metric")
    assert before.loc["latency_p99_ms", "verdict"] == "pass"
    after = whatif.rejudge(FRAME, {"latency_p99_ms": 100}).set_index("metric")
    assert after.loc["latency_p99_ms", "verdict"] == "passed 2 of 3"  # 120 is over
    assert after.loc["latency_p99_ms", "target"] == 100
    assert after.loc["throughput_rps", "verdict"] == "pass"  # untouched
    higher = whatif.rejudge(FRAME, {"throughput_rps": 1050}).set_index("metric")
    assert higher.loc["throughput_rps", "verdict"] == "fail"  # above 1050: 1040 is not
    assert FRAME[FRAME.kind == "verdict"].target.tolist()[0] == 1000  # the run is unchanged


def test_a_line_the_run_does_not_have_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no such SLO line in this run: latency_p42_ms"):
        whatif.rejudge(FRAME, {"latency_p42_ms": 1.0})


def test_another_objective_reprices_the_fault_runs_budget() -> None:
    # 10,000 requests, 2 failed, 5 over 1 s
    default = whatif.budget(FRAME).set_index("objective")
    assert default.loc["availability", "budget_spent"] == pytest.approx(2 / 10)  # 99.9 %
    looser = whatif.budget(FRAME, availability_percent=99.0).set_index("objective")
    assert looser.loc["availability", "budget_spent"] == pytest.approx(2 / 100)
    latency = whatif.budget(FRAME, latency_percent=99.9).set_index("objective")
    assert latency.loc["latency", "budget_spent"] == pytest.approx(5 / 10)
    uncounted = whatif.budget(FRAME, latency_below_ms=300).set_index("objective")
    assert pd.isna(uncounted.loc["latency", "bad"])  # the run counted 1 s only
