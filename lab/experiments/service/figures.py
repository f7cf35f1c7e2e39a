"""The service experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.service import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    lines = {"p99": 1000.0, "cpu": 70.0}
    for part, title in (
        ("ramp", "Ramp to the target rate and beyond, optimized and naive"),
        ("fault", "Followers service down, then Redis restarted (optimized)"),
        ("overload", "3x the target rate, then the target rate again (optimized)"),
    ):
        seconds = tables.timeline(frame, part)
        if len(seconds):
            figures.append(plots.slo_timeline(seconds, lines=lines, title=title))
    search = tables.search_summary(frame)
    if len(search):
        figures.append(
            plots.ratio_bars(
                search,
                column="max_rate_meeting_slo",
                label_columns=["variant"],
                reference=1000.0,
                xlabel="largest requests/s meeting every latency, error and resource line",
                title="How far each variant goes before the SLO breaks (median, min-max)",
            )
        )
    return figures
