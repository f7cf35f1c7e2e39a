"""The loadgen experiment's tables: what the report, asv and the notebooks show."""

from __future__ import annotations

import pandas as pd

from lab.experiments.tables import ReportTable

__all__ = ["TABLES", "summary"]


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Medians per scenario and tool; in saturation, the rate as a share of wrk's and the
    CPU per request as a share of Locust's, each taken per repeat then summarised."""
    keys = ["scenario", "tool"]
    table = frame.groupby(keys, sort=False).agg(
        runs=("repeat", "size"),
        achieved_rps=("achieved_rps", "median"),
        p50_ms=("latency_ms_p50", "median"),
        p99_ms=("latency_ms_p99", "median"),
        p99_ms_max=("latency_ms_p99", "max"),
        errors=("errors", "sum"),
        dropped=("dropped", "sum"),
        cpu_s_per_1000=("cpu_s_per_1000", "median"),
    )
    saturation = frame[frame.scenario == "saturation"]
    per_repeat = saturation.pivot_table(index="repeat", columns="tool",
                                        values=["achieved_rps", "cpu_s_per_1000"])  # fmt: skip
    for tool in saturation.tool.unique():
        for column, reference, name in (("achieved_rps", "wrk", "rate_vs_wrk"),
                                        ("cpu_s_per_1000", "locust FastHttpUser",
                                         "cpu_vs_locust")):  # fmt: skip
            if (column, reference) not in per_repeat:
                continue
            ratio = per_repeat[(column, tool)] / per_repeat[(column, reference)]
            table.loc[("saturation", tool), name] = ratio.median()
            table.loc[("saturation", tool), f"{name}_min"] = ratio.min()
            table.loc[("saturation", tool), f"{name}_max"] = ratio.max()
    return table.reset_index()


TABLES = (ReportTable("", summary),)
