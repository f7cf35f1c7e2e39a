"""The baseline experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.baseline import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    table = tables.ratios(frame)
    compared = table[table.runs > 0]
    return [
        plots.ratio_bars(
            compared,
            label_columns=["service", "operation", "concurrency"],
            title="Python client throughput / native tool throughput (median, min-max)",
        ),
        plots.latency_bars(
            table,
            label_columns=["service", "operation", "concurrency"],
            title="Python client round-trip latency, p50 and p99",
        ),
    ]
