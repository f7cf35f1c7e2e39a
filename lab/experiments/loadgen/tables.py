"""The loadgen experiment's tables: what the report, asv and the notebooks show."""

from __future__ import annotations

import pandas as pd

from lab.experiments.tables import ReportTable

__all__ = ["TABLES", "summary"]


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Medians per scenario and tool, and ratios taken per repeat then summarised
    (median, min, max): in saturation, the rate as a share of wrk's and the CPU per request
    as a share of Locust's; in accuracy and stall, lab-open's percentiles and CPU per
    request as shares of vegeta's at the same rate; in tls, https's CPU per request as a
    share of plain http's."""
    keys = ["scenario", "tool"]
    if "latency_ms_p95" not in frame:  # runs from before vegeta joined
        frame = frame.assign(latency_ms_p95=float("nan"))
    table = frame.groupby(keys, sort=False).agg(
        runs=("repeat", "size"),
        achieved_rps=("achieved_rps", "median"),
        p50_ms=("latency_ms_p50", "median"),
        p95_ms=("latency_ms_p95", "median"),
        p99_ms=("latency_ms_p99", "median"),
        p99_ms_max=("latency_ms_p99", "max"),
        errors=("errors", "sum"),
        dropped=("dropped", "sum"),
        cpu_s_per_1000=("cpu_s_per_1000", "median"),
    )
    ratios = [
        ("saturation", "achieved_rps", "wrk", "rate_vs_wrk"),
        ("saturation", "cpu_s_per_1000", "locust FastHttpUser", "cpu_vs_locust"),
        *[(scenario, column, "vegeta", name)
          for scenario in ("accuracy", "stall")
          for column, name in (("latency_ms_p50", "p50_vs_vegeta"),
                               ("latency_ms_p95", "p95_vs_vegeta"),
                               ("latency_ms_p99", "p99_vs_vegeta"),
                               ("cpu_s_per_1000", "cpu_vs_vegeta"))],
        ("tls", "cpu_s_per_1000", "lab-open http", "cpu_vs_plain_http"),
    ]  # fmt: skip
    for scenario, column, reference, name in ratios:
        _ratio(table, frame[frame.scenario == scenario], scenario, column, reference, name)
    return table.reset_index()


def _ratio(table: pd.DataFrame, rows: pd.DataFrame, scenario: str, column: str,
           reference: str, name: str) -> None:  # fmt: skip
    """Each tool's ``column`` over ``reference``'s, per repeat: into ``table`` as
    ``name``, ``name_min``, ``name_max`` (empty when the reference did not run)."""
    per_repeat = rows.pivot_table(index="repeat", columns="tool", values=column)
    if reference not in per_repeat:  # an empty cell, which a headline explains
        for tool in per_repeat.columns:
            table.loc[(scenario, tool), name] = float("nan")
        return
    for tool in per_repeat.columns:
        if tool == reference:
            continue
        ratio = per_repeat[tool] / per_repeat[reference]
        table.loc[(scenario, tool), name] = ratio.median()
        table.loc[(scenario, tool), f"{name}_min"] = ratio.min()
        table.loc[(scenario, tool), f"{name}_max"] = ratio.max()


TABLES = (ReportTable("", summary),)
