"""Tables for the reference-service experiment: the SLO verdict per variant (the report's
first section), the rate search, the fault run and its error budget."""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd

from lab.experiments.tables import ReportTable, part_rows, spread_columns

__all__ = [
    "BUDGET_SHARE",
    "SLO_SOURCES",
    "TABLES",
    "error_budget",
    "search_summary",
    "slo_metrics",
    "targets",
    "timeline",
    "verdicts",
]

#: The SLO's p99 line allows 1 % of requests over it; failed requests spend it too.
BUDGET_SHARE = 0.01

_GENERATOR = "the load generator, over the hold"
#: Where the service experiment measures each SLO line (the report prints it beside it).
SLO_SOURCES = {
    **{f"latency_{name}_ms": f"{_GENERATOR}: HdrHistogram from each request's intended time"
       for name in ("p50", "p90", "p95", "p99", "p999", "max")},
    "throughput_rps": f"{_GENERATOR}: requests answered per second",
    "error_rate_percent": f"{_GENERATOR}: failed requests (5xx, resets, timeouts) / all",
    "concurrent_users": "the service's side of its sockets: established TCP connections to "
    "its port (psutil), median of 1 s samples",
    "cpu_percent": "the whole machine (psutil), mean of 1 s samples: the service, the load "
    "generator and the servers share it",
    "memory_percent": "the whole machine (psutil), largest of 1 s samples",
    "db_connections_percent": "PostgreSQL: client backends in pg_stat_activity / "
    "max_connections, largest of 1 s samples",
}  # fmt: skip


def _rows(frame: pd.DataFrame, part: str, kind: str | None = None) -> pd.DataFrame:
    rows = part_rows(frame, part)
    return rows[rows.kind == kind] if kind is not None and "kind" in rows else rows


def verdicts(frame: pd.DataFrame, part: str = "ramp") -> pd.DataFrame:
    """Per variant and SLO line: target, measured median [min-max] over repeats, and
    how many repeats passed."""
    rows = _rows(frame, part, "verdict")
    if rows.empty:
        return pd.DataFrame()
    measured = rows.measured.astype(float)
    passed = rows.passed.map(lambda value: value in (True, "True"))  # NaN: not measured
    rows = rows.assign(measured=measured, passed=passed, judged=measured.notna())
    table = spread_columns(rows, ["variant", "metric", "bound", "target"], ["measured"])
    counts = rows.groupby(["variant", "metric"], sort=False)
    table = table.join(counts.passed.sum().rename("passed_runs"), on=["variant", "metric"])
    table = table.join(counts.judged.sum().rename("judged_runs"), on=["variant", "metric"])
    table["margin"] = table.apply(
        lambda r: (r.target - r.measured) if r.bound == "below" else (r.measured - r.target),
        axis=1,
    )
    table["verdict"] = table.apply(_verdict, axis=1)
    return table


def _verdict(row: pd.Series) -> str:
    if row.judged_runs == 0:
        return "not measured"
    if row.passed_runs == row.runs:
        return "pass"
    return "fail" if row.passed_runs == 0 else f"passed {row.passed_runs} of {row.runs}"


def search_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The largest rate each variant met every judged SLO line at, per repeat, summarized."""
    rows = _rows(frame, "search")
    if rows.empty:
        return pd.DataFrame()
    best = (rows[rows.met.astype(bool)].groupby(["variant", "repeat"]).rate.max()
            .reindex(pd.MultiIndex.from_frame(rows[["variant", "repeat"]].drop_duplicates()))
            .fillna(0.0).rename("max_rate_meeting_slo").reset_index())  # fmt: skip
    return spread_columns(best, ["variant"], ["max_rate_meeting_slo"])


def timeline(frame: pd.DataFrame, part: str = "ramp") -> pd.DataFrame:
    return _rows(frame, part, "second")


def error_budget(frame: pd.DataFrame) -> pd.DataFrame:
    """The fault run: per repeat, requests, errors, answers slower than the p99 line
    (1 s) and the share of the run's error budget (1 % of requests) they spent together."""
    seconds = timeline(frame, "fault")
    if seconds.empty:
        return pd.DataFrame()
    out = []
    for repeat, run in seconds.groupby("repeat"):
        requests, errors, slow = (
            float(run.rps.sum()),
            float(run.errors.sum()),
            float(run.over_1s.sum()),
        )
        spent = (errors + slow) / (BUDGET_SHARE * requests) if requests else 0.0
        out.append({"repeat": repeat, "requests": requests, "errors": errors,
                    "over_1s": slow, "budget_spent": spent})  # fmt: skip
    columns = ["requests", "errors", "over_1s", "budget_spent"]
    return spread_columns(pd.DataFrame(out).assign(run="fault"), ["run"], columns)


def targets(frame: pd.DataFrame) -> pd.DataFrame:
    table = verdicts(frame)
    if table.empty:
        return table
    out: list[dict[str, Any]] = []
    for variant, rows in table.groupby("variant", sort=False):
        out.append({"target": "every SLO line at the target rate, 500+ connections",
                    "variant": variant, "lines": len(rows),
                    "lines_passed_every_repeat": int((rows.verdict == "pass").sum()),
                    "met": bool((rows.verdict == "pass").all())})  # fmt: skip
    return pd.DataFrame(out)


def slo_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """The optimized service's hold-window medians, for the report's SLO verdict."""
    table = verdicts(frame)
    if table.empty:
        return {}
    mine = table[table.variant == "optimized"]
    return {str(metric): float(value) for metric, value in zip(mine.metric, mine.measured,
                                                                 strict=True)}  # fmt: skip


TABLES = (
    ReportTable("Target: the optimized service meets every SLO line", targets),
    ReportTable(
        "Every slo.yaml line in the hold window, per variant (median over repeats, min-max)",
        verdicts,
    ),
    ReportTable(
        "Largest constant rate meeting every latency, error and resource line", search_summary
    ),
    ReportTable(
        "Fault run (followers service down, Redis restarted): the verdict",
        partial(verdicts, part="fault"),
    ),
    ReportTable("Fault run: error budget spent (1 % of requests)", error_budget),
)
