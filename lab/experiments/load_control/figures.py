"""The load_control experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.load_control import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    points = frame[(frame.part == "convergence") & (frame.kind == "timeline")]
    if len(points):
        figures.append(
            plots.limit_timeline(
                points, title="The limit each algorithm settles on, against the capacity C"
            )
        )
    conv = tables.convergence_summary(frame)
    if len(conv):
        limited = conv[conv.variant != "no limiter"]
        figures.append(
            plots.ratio_bars(
                limited,
                column="p99_ratio",
                label_columns=["scenario", "variant"],
                reference=2.0,
                xlabel="p99 in overload / p99 under light load (target: at most 2)",
                title="What callers wait under overload, by limiter (median, min-max)",
            )
        )
    mon = tables.monitoring_summary(frame)
    if len(mon):
        added = mon[mon.variant != "plain"]
        figures.append(
            plots.ratio_bars(
                added,
                column="added_cpu_percent",
                label_columns=["stack", "variant"],
                reference=5.0,
                xlabel="server CPU per request added, % (target: at most 5)",
                title="What request metrics cost a minimal handler (median, min-max)",
            )
        )
    return figures
