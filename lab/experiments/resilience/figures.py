"""The resilience experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.resilience import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    table = tables.breaker_summary(frame)
    overhead = tables.overhead_summary(frame)
    overhead = overhead[overhead.variant != "bare await"].assign(
        ratio=lambda t: t.overhead_ns / 1000,
        ratio_min=lambda t: t.overhead_ns_min / 1000,
        ratio_max=lambda t: t.overhead_ns_max / 1000,
    )
    figures = []
    faults = frame[frame.part.isin(["outage", "partial", "slowdown"])]
    if len(faults):
        figures.append(
            plots.outcome_timeline(
                faults, title="Calls by outcome over time (shaded: the fault); one row per breaker"
            )
        )
    outage = table[table.scenario == "outage"]
    if len(outage):
        figures.append(
            plots.ratio_bars(
                outage.assign(
                    ratio=lambda t: t.reached_during_fault,
                    ratio_min=lambda t: t.reached_during_fault,
                    ratio_max=lambda t: t.reached_max,
                ),
                label_columns=["variant"],
                xlabel="calls that reached the failing downstream",
                reference=None,
                title="Outage: calls that still hit the downstream while it was down",
            )
        )
    if len(overhead):
        figures.append(
            plots.ratio_bars(
                overhead,
                label_columns=["variant"],
                xlabel="microseconds added per call",
                reference=None,
                title="Cost per call against a bare await (median, min-max)",
            )
        )
    return figures
