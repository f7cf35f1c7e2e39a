"""The database experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.database import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    if (frame.part == "pool_size").any():
        table = tables.pool_size_summary(frame)
        figures.append(plots.ratio_bars(
            table.assign(ratio=table.rps_vs_naive, ratio_min=table.rps_vs_naive_min,
                         ratio_max=table.rps_vs_naive_max,
                         size=table.pool_size.map(lambda n: f"pool {n}" if n else "naive"),
                         users=table.clients.map(lambda n: f"{n} users")),
            label_columns=["users", "size"],
            xlabel="requests/s relative to a connection per request (1.0)",
            title="Throughput against pool size, closed loop (median, min-max)",
        ))  # fmt: skip
    if (frame.part == "vs_pgbench").any():
        table = tables.vs_pgbench(frame)
        figures.append(plots.ratio_bars(
            table.assign(ratio=table.ratio_vs_pgbench_simple,
                         ratio_min=table.ratio_vs_pgbench_simple_min,
                         ratio_max=table.ratio_vs_pgbench_simple_max),
            label_columns=["variant"], xlabel="queries/s relative to pgbench -S -M simple",
            title="A pool of 10 against pgbench with 10 connections, same repeat",
        ))  # fmt: skip
    return figures
