"""The caching experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.caching import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    cost = tables.cost_summary(frame) if (frame.part == "cost").any() else None
    if cost is not None:
        hits = cost[
            (cost.workload == "hit")
            & (cost.backend == "redis")
            & (cost.variant != "redis-benchmark -P 1")
        ]
        figures.append(
            plots.ratio_bars(
                hits,
                column="cost_vs_redis_py",
                label_columns=["variant", "concurrency"],
                xlabel="time per hit relative to a bare redis-py GET + orjson (1.0)",
                title="Cost of a Redis-backed hit (median, min-max)",
            )
        )
    if (frame.part == "stampede").any():
        figures.append(
            plots.ratio_bars(
                tables.stampede_totals(frame),
                column="origin_calls",
                label_columns=["mode", "callers"],
                reference=None,
                xlabel="origin calls (1 is ideal)",
                title="N callers meet an expired hot key: origin calls per stampede mode",
            )
        )
    return figures
