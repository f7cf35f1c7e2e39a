"""What if the SLO said something else: a stored service run re-judged at once, with no
server and no new measurement.

Each line's hold-window figure is stored per repeat, so another threshold re-judges it
(:func:`rejudge`). The fault run's seconds store the failed requests and those at or over
each latency objective's threshold at run time (and 1 s always), so another objective
target re-prices its error budget, and another latency threshold can when the run counted
it (:func:`budget`). The largest rate meeting the SLO is a bisection that chose its next
rate from each probe's verdict: another target would have probed other rates, so it is
shown as measured, not re-judged (``lab run service`` measures it again).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from lab.errors import ConfigError
from lab.experiments.service import tables
from lab.harness.sliders import display, sliders
from lab.harness.slo_objectives import Objective, load_objectives

__all__ = ["budget", "rejudge", "show", "sliders_for"]


def rejudge(frame: pd.DataFrame, targets: Mapping[str, float] | None = None,
            part: str = "ramp") -> pd.DataFrame:  # fmt: skip
    """:func:`tables.verdicts` with each line named in ``targets`` judged against the
    value given there instead of the one the run was judged against (its bound, below or
    above, stays)."""
    targets = dict(targets or {})
    rows = frame[(frame.part == part) & (frame.kind == "verdict")]
    unknown = sorted(set(targets) - set(rows.metric))
    if unknown:
        raise ConfigError(f"no such SLO line in this run: {', '.join(unknown)} "
                          f"(its lines: {', '.join(sorted(set(rows.metric)))})")  # fmt: skip
    if rows.empty:
        return pd.DataFrame()
    rows = rows.copy()
    target = rows.metric.map(targets).fillna(rows.target.astype(float))
    measured = rows.measured.astype(float)
    below = rows.bound == "below"
    passed = (measured < target).where(below, measured > target)
    rows["target"] = target
    rows["passed"] = passed.where(measured.notna(), None)
    return tables.verdicts(rows, part)


def budget(frame: pd.DataFrame, availability_percent: float | None = None,
           latency_percent: float | None = None,
           latency_below_ms: float | None = None) -> pd.DataFrame:  # fmt: skip
    """The fault run's error budget per objective of ``slo.yaml``, with a target % or
    the latency threshold changed; a threshold the run did not count shows NaN bad
    requests."""
    from lab.experiments.service.measure import default_slo_path

    changed = []
    for objective in load_objectives(default_slo_path()):
        percent = availability_percent if objective.sli == "availability" else latency_percent
        threshold = objective.threshold_s
        if objective.sli == "latency" and latency_below_ms is not None:
            threshold = latency_below_ms / 1000
        changed.append(Objective(objective.name, objective.sli,
                                 percent if percent is not None else objective.target_percent,
                                 objective.window_s, threshold))  # fmt: skip
    return tables.error_budget(frame, changed)


def show(frame: pd.DataFrame, p50_ms: float = 200.0, p95_ms: float = 500.0,
         p99_ms: float = 1000.0, cpu_percent: float = 70.0,
         availability_percent: float = 99.9, latency_percent: float = 99.0,
         latency_below_ms: float = 1000.0) -> None:  # fmt: skip
    """The stored run's lines re-judged against these targets, and the fault run's error
    budget for these objectives (a notebook cell's output)."""
    lines = {"latency_p50_ms": p50_ms, "latency_p95_ms": p95_ms, "latency_p99_ms": p99_ms,
             "cpu_percent": cpu_percent}  # fmt: skip
    present = set(frame.metric.dropna()) if "metric" in frame else set()
    verdicts = rejudge(frame, {k: v for k, v in lines.items() if k in present})
    shown: list[Any] = []
    if len(verdicts):
        shown.append(verdicts[["variant", "metric", "bound", "target", "measured", "margin",
                               "verdict"]].round(2))  # fmt: skip
    spent = budget(frame, availability_percent, latency_percent, latency_below_ms)
    if len(spent):
        if spent.bad.isna().any():
            shown.append(f"This run did not count requests over {latency_below_ms:g} ms: "
                         "it counted 1 s and slo.yaml's latency thresholds.")  # fmt: skip
        shown.append(spent.round(3))
    if shown:
        display(*shown)
    else:
        print("This run has no ramp or fault part to re-judge.")


def sliders_for(frame: pd.DataFrame) -> Any:
    """Sliders over :func:`show` for this run (ipywidgets wants a named function)."""

    def what_if(
        p50_ms: float = 200.0,
        p95_ms: float = 500.0,
        p99_ms: float = 1000.0,
        cpu_percent: float = 70.0,
        availability_percent: float = 99.9,
        latency_percent: float = 99.0,
        latency_below_ms: float = 1000.0,
    ) -> None:
        show(frame, p50_ms, p95_ms, p99_ms, cpu_percent, availability_percent,
             latency_percent, latency_below_ms)  # fmt: skip

    return sliders(what_if, p50_ms=(10.0, 500.0, 10.0), p95_ms=(50.0, 1000.0, 50.0),
                   p99_ms=(50.0, 2000.0, 50.0), cpu_percent=(30.0, 100.0, 5.0),
                   availability_percent=(90.0, 99.99, 0.01),
                   latency_percent=(90.0, 99.99, 0.01),
                   latency_below_ms=[200.0, 500.0, 1000.0])  # fmt: skip
