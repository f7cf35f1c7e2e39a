"""Tables for the reference-service experiment: the SLO verdict per variant (the report's
first section), the rate search, the fault run and its error budget."""

from __future__ import annotations

import math
from bisect import bisect_left
from functools import partial
from typing import Any

import pandas as pd

from lab.experiments.service.profile import NO_SWITCH
from lab.experiments.service.prometheus_lines import PROMQL_LINES
from lab.experiments.tables import ReportTable, part_rows, spread_columns
from lab.harness.slo_objectives import Objective, load_objectives
from lab.harness.slo_rules import BURN_ALERTS
from lab.patterns.monitoring import REQUEST_BUCKETS_S

__all__ = [
    "SLO_SOURCES",
    "TABLES",
    "bad_column",
    "bucket_index",
    "burn_alerts",
    "counts_beside",
    "error_budget",
    "line_recovery",
    "overload_summary",
    "prometheus_beside",
    "search_summary",
    "slo_metrics",
    "targets",
    "timeline",
    "verdicts",
]

_GENERATOR = "the load generator, over the hold"
#: Where the service experiment measures each SLO line (the report prints it beside it).
SLO_SOURCES = {
    **{f"latency_{name}_ms": f"{_GENERATOR}: HdrHistogram from each request's intended time"
       for name in ("p50", "p90", "p95", "p99", "p999", "max")},
    "throughput_rps": f"{_GENERATOR}: requests answered without error per second",
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


def prometheus_beside(frame: pd.DataFrame) -> pd.DataFrame:
    """The hold's lines as Prometheus computed them (PromQL over the service's own
    request metrics) beside the load generator's, per variant: medians over repeats. An
    empty cell: Prometheus answered but had too few scrapes of the hold (a scrape of an
    overloaded service can time out)."""
    rows = _rows(frame, "ramp", "verdict")
    if rows.empty or "prometheus" not in rows:  # a run from before Prometheus was asked
        return pd.DataFrame()
    answered = rows.get("prometheus_answered", pd.Series(True, index=rows.index))
    if not answered.map(lambda v: v in (True, "True")).any():
        return pd.DataFrame([{"prometheus": "did not answer during the run: start it with "
                              "`lab services up --only prometheus`, or point "
                              "LAB_PROMETHEUS_URL at one that scrapes lab serve"}])  # fmt: skip
    rows = rows.assign(generator=rows.measured.astype(float),
                       prometheus=rows.prometheus.astype(float))  # fmt: skip
    rows = rows[rows.metric.isin(PROMQL_LINES)]
    apart = [abs(bucket_index(g) - bucket_index(p)) for g, p in zip(rows.generator,
             rows.prometheus, strict=True)]  # fmt: skip
    rows = rows.assign(buckets_apart=apart)
    rows.loc[~rows.metric.str.startswith("latency_"), "buckets_apart"] = math.nan
    grouped = rows.groupby(["variant", "metric"], sort=False)
    table = grouped[["generator", "prometheus"]].median().reset_index()
    table["runs"] = grouped.size().to_numpy()
    table["buckets_apart_max"] = grouped.buckets_apart.max().to_numpy()
    return table


_EDGES_MS = [edge * 1000 for edge in REQUEST_BUCKETS_S]


def bucket_index(ms: float) -> float:
    """Which of the service's request-histogram buckets ``ms`` falls in (0: at most the
    first edge; the +Inf bucket last); NaN for NaN. Two quantiles one bucket apart are
    as close as a bucketed histogram can tell."""
    if math.isnan(ms):
        return math.nan
    return float(bisect_left(_EDGES_MS, ms))


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


def overload_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The overload part, median [min-max] over repeats: what was offered and served,
    the failures from the overload's start to the end of the run (503s and timeouts),
    the limiter's refusals, the service's memory, the seconds until every SLO line of
    ``slo.yaml`` was met again for 3 s in a row after the drop (and which line came back
    last), and whether the service answered its health check after."""
    rows = _rows(frame, "overload", "summary")
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(alive=rows.alive_after.map(lambda v: v in (True, "True")))
    every, last = [], []
    for repeat in rows.repeat:
        back = line_recovery(frame, repeat)
        never = [name for name, value in back.items() if math.isnan(value)]
        every.append(math.nan if never or not back else max(back.values()))
        last.append(", ".join(never) if never else max(back, key=back.__getitem__, default=""))
    rows = rows.assign(every_line_back_s=every, last_line_back=last)
    figures = ("achieved_rps", "errors", "limiter_refusals", "rss_before_mb", "rss_peak_mb",
               "rss_last_mb", "every_line_back_s")  # fmt: skip
    columns = [c for c in figures if c in rows]
    rows[columns] = rows[columns].astype(float)
    keys = [k for k in ("overload_window_s", "offered_rps", "connections") if k in rows]
    table = spread_columns(rows, keys, columns)
    table["last_line_back"] = ", ".join(sorted(set(last) - {""}))
    table["alive_every_repeat"] = bool(rows.alive.all())
    return table


def line_recovery(frame: pd.DataFrame, repeat: Any) -> dict[str, float]:
    """Seconds after the overload of ``repeat`` until each SLO line of ``slo.yaml`` (and
    no failed request) held for 3 s in a row: NaN for one that never did."""
    from lab.experiments.service.measure import default_slo_path
    from lab.experiments.service.overload import recovery_by_line
    from lab.harness.slo import load_slo

    seconds = timeline(frame, "overload")
    seconds = seconds[seconds.repeat.astype(str) == str(repeat)]
    if seconds.empty:
        return {}
    end = float(str(seconds.overload_window_s.iloc[0]).split("-")[1])
    lines = [(t.metric, t.bound, t.value) for t in load_slo(default_slo_path())]
    records = [{str(k): v for k, v in row.items()} for row in seconds.to_dict("records")]
    return {str(k): float(v) for k, v in recovery_by_line(records, end, lines).items()}


def counts_beside(frame: pd.DataFrame) -> pd.DataFrame:
    """The overload run's requests and 5xx as the generator saw them and as Prometheus
    counted them at the service (its last scrape after the load), per repeat, with both
    error ratios: the generator's counts every failure (5xx, timeouts, resets), and
    Prometheus' only what the service answered with a 5xx."""
    rows = _rows(frame, "overload", "summary")
    if rows.empty or "prometheus_requests" not in rows:
        return pd.DataFrame()
    out = rows[["repeat", "generator_requests", "prometheus_requests", "generator_5xx",
                "prometheus_5xx", "generator_failed"]].astype(float)  # fmt: skip
    out["generator_error_percent"] = 100 * out.generator_failed / out.generator_requests
    out["prometheus_error_percent"] = 100 * out.prometheus_5xx / out.prometheus_requests
    out["equal_5xx"] = out.generator_5xx == out.prometheus_5xx
    out["equal_ratio"] = out.generator_error_percent == out.prometheus_error_percent
    return out.assign(repeat=out.repeat.astype(int))


def _short_window_s(scale: float) -> float:
    return BURN_ALERTS[0][3] / scale


def burn_alerts(frame: pd.DataFrame) -> pd.DataFrame:
    """The fast-burn alert (14.4x over the scaled hour and five minutes) as Prometheus
    fired it: the seconds it fired in each ramp (the optimized service's is a clean
    run: it must not fire), and in the overload, how long after the first failed
    request it fired (it must within two of its scaled short windows), median
    [min-max] over repeats."""
    ramp, over = _rows(frame, "ramp", "alerts"), _rows(frame, "overload", "summary")
    out = []
    for _, row in ramp.iterrows():
        out.append({"run": f"ramp, {row.variant}", "repeat": row.repeat,
                    "watched": row.alerts_watched in (True, "True"),
                    "fast_burn_seconds": float(row.fast_burn_seconds),
                    "fired_after_failures_s": math.nan,
                    "scale": float(row.alert_scale)})  # fmt: skip
    for _, row in over.iterrows():
        after = float(row.get("fast_burn_after_failures_s", math.nan))
        out.append({"run": "overload", "repeat": row.repeat,
                    "watched": row.alerts_watched in (True, "True"),
                    "fast_burn_seconds": float(row.get("fast_burn_seconds", math.nan)),
                    "fired_after_failures_s": after, "scale": float(row.alert_scale)})  # fmt: skip
    if not out:
        return pd.DataFrame()
    rows = pd.DataFrame(out)
    if not rows.watched.any():
        return pd.DataFrame([{"alerts": "not measured: no Prometheus of `lab services up` "
                              "answered (`lab services up --only prometheus`), or it had "
                              "not evaluated the alert rules over the run"}])  # fmt: skip
    rows = rows[rows.watched]
    table = spread_columns(rows, ["run", "scale"], ["fast_burn_seconds",
                                                    "fired_after_failures_s"])  # fmt: skip
    table["bound_s"] = [2 * _short_window_s(scale) for scale in table.scale]
    table["target"] = ["fires within bound_s of the first failure" if run == "overload"
                       else "never fires" if run == "ramp, optimized" else "(not judged)"
                       for run in table.run]  # fmt: skip
    return table


def bad_column(objective: Objective) -> str:
    """The timeline's column counting the requests that ``objective`` calls bad: failed
    ones for availability, those at or over its threshold for latency."""
    if objective.threshold_s is None:
        return "errors"
    return "over_1s" if objective.threshold_s == 1.0 else f"over_{objective.threshold_s * 1000:g}ms"


def error_budget(frame: pd.DataFrame, objectives: list[Objective] | None = None) -> pd.DataFrame:
    """The fault run, per objective (``slo.yaml``'s unless given): its requests, the bad
    ones, and the share of their error budget those spent (1.0: all that the objective
    allows that many requests; 99.9 % allows 0.1 % of them). A stored run is judged
    against the objectives given now."""
    seconds = timeline(frame, "fault")
    if seconds.empty:
        return pd.DataFrame()
    if objectives is None:
        from lab.experiments.service.measure import default_slo_path

        objectives = load_objectives(default_slo_path())
    out = []
    for repeat, run in seconds.groupby("repeat"):
        requests = float(run.rps.sum())
        for objective in objectives:
            column = bad_column(objective)
            bad = float(run[column].sum()) if column in run else float("nan")
            # no request answered: nothing was judged, which is not a budget left whole
            spent = bad / (objective.budget * requests) if requests else float("nan")
            out.append({"repeat": repeat, "objective": objective.name,
                        "target_percent": objective.target_percent, "requests": requests,
                        "bad": bad, "budget_spent": spent})  # fmt: skip
    keys, columns = ["run", "objective", "target_percent"], ["requests", "bad", "budget_spent"]
    return spread_columns(pd.DataFrame(out).assign(run="fault"), keys, columns)


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


def _profiled(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The profile part's ``kind`` rows, each labelled with the ``lab serve`` switch it ran
    with (``none``: no switch of its own, as every run of a frame before them)."""
    rows = _rows(frame, "profile", kind)
    if rows.empty:
        return rows
    switch = rows["switch"] if "switch" in rows else pd.Series(index=rows.index, dtype=object)
    return rows.assign(switch=switch.fillna(NO_SWITCH))


def profile_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """The profiled runs per event loop, and with each switch of ``profile_switches``: rate,
    the service's CPU per request, that CPU relative to uvloop's run with no switch in the
    same repeat, and py-spy's samples; or why it could not sample."""
    rows = _profiled(frame, "summary")
    if rows.empty:
        return pd.DataFrame()
    plain = rows[rows["switch"] == NO_SWITCH]
    uvloop = plain[plain.event_loop == "uvloop"].set_index("repeat").cpu_us_per_request
    rows = rows.assign(cpu_vs_uvloop=rows.cpu_us_per_request / rows.repeat.map(uvloop))
    error = rows.get("profiler_error", pd.Series(dtype=object)).dropna()
    table = spread_columns(rows, ["variant", "event_loop", "switch"],
                           ["achieved_rps", "cpu_us_per_request", "cpu_vs_uvloop",
                            "samples"])  # fmt: skip
    table["profiler_error"] = error.iloc[-1] if len(error) else ""
    return table


def profile_shares(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The profile's samples by ``kind`` (``stage`` or ``function``) per event loop, in the
    runs with no switch of their own: share of the service's CPU samples, median [min-max]
    over repeats, largest first."""
    rows = _profiled(frame, kind)
    rows = rows[rows["switch"] == NO_SWITCH] if not rows.empty else rows
    if rows.empty:
        return pd.DataFrame()
    table = spread_columns(rows, ["event_loop", kind], ["share_percent"])
    order = {loop: n for n, loop in enumerate(dict.fromkeys(rows.event_loop))}
    table = table.assign(loop_order=table.event_loop.map(order))
    table = table.sort_values(["loop_order", "share_percent"], ascending=[True, False])
    return table.drop(columns="loop_order").reset_index(drop=True)


TABLES = (
    ReportTable("Target: the optimized service meets every SLO line", targets),
    ReportTable(
        "Every slo.yaml line in the hold window, per variant (median over repeats, min-max)",
        verdicts,
    ),
    ReportTable(
        "The hold's lines from Prometheus (PromQL over the service's own request metrics: "
        "from handler start, quantiles interpolated in buckets) beside the load generator's "
        "(HdrHistogram from each request's intended time)",
        prometheus_beside,
    ),
    ReportTable(
        "Largest constant rate meeting every latency, error and resource line (found by "
        "bisection from the lowest rate, 100 requests/s by default; 0: even that one failed "
        "a line)",
        search_summary,
    ),
    ReportTable(
        "Fault run (followers service down, Redis restarted): the verdict",
        partial(verdicts, part="fault"),
    ),
    ReportTable(
        "Overload: 3x the target rate, then the target rate: served, shed, memory and recovery",
        overload_summary,
    ),
    ReportTable(
        "Overload: requests and 5xx as the generator saw them and as Prometheus counted "
        "them at the service, per repeat",
        counts_beside,
    ),
    ReportTable(
        "Burn-rate alerts in Prometheus (the objectives' rules, windows scaled): the fast "
        "burn in a clean run and after the overload's first failures",
        burn_alerts,
    ),
    ReportTable(
        "Where the optimized service's CPU goes at the target rate: the runs py-spy sampled, "
        "per event loop, and on uvloop with each lab serve switch of profile_switches "
        "(cpu_vs_uvloop: relative to uvloop with none, same repeat)",
        profile_summary,
    ),
    ReportTable(
        "Where the optimized service's CPU goes: py-spy samples by the stage of the code "
        "running (its innermost Python frame), % of samples",
        partial(profile_shares, kind="stage"),
    ),
    ReportTable(
        "Where the optimized service's CPU goes: the functions running most often, % of samples",
        partial(profile_shares, kind="function"),
    ),
    ReportTable(
        "Fault run: error budget spent per objective of slo.yaml (1.0: all the bad requests "
        "the objective allows that many requests)",
        error_budget,
    ),
)
