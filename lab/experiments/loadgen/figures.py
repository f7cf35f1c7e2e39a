"""The loadgen experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.loadgen import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    table = tables.summary(frame)
    figures = []
    compared = table[table.scenario == "saturation"]
    if "rate_vs_wrk" in compared:  # absent when wrk is not installed
        saturation = compared[compared.rate_vs_wrk.notna()]
        figures.append(
            plots.ratio_bars(
                saturation,
                label_columns=["tool"],
                ratio="rate_vs_wrk",
                low="rate_vs_wrk_min",
                high="rate_vs_wrk_max",
                xlabel="requests/s as a share of wrk's (1.0 = wrk)",
                title="Saturation: rate against one server process, relative to wrk",
            )
        )
    stall = table[table.scenario.isin(["accuracy", "stall"])]
    figures.append(
        plots.latency_bars(
            stall,
            label_columns=["scenario", "tool"],
            title="What each tool reports: p50 and p99 (stall = server frozen periodically)",
        )
    )
    return figures
