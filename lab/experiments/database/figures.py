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
        figures.append(
            plots.ratio_bars(
                table.assign(
                    size=table.pool_size.map(lambda n: f"pool {n}" if n else "naive"),
                    users=table.clients.map(lambda n: f"{n} users"),
                ),
                column="rps_vs_naive",
                label_columns=["users", "size"],
                xlabel="requests/s relative to a connection per request (1.0)",
                title="Throughput against pool size, closed loop (median, min-max)",
            )
        )
    if (frame.part == "vs_pgbench").any():
        table = tables.vs_pgbench(frame)
        figures.append(
            plots.ratio_bars(
                table,
                column="ratio_vs_pgbench_simple",
                label_columns=["variant"],
                xlabel="queries/s relative to pgbench -S -M simple",
                title="A pool of 10 against pgbench with 10 connections, same repeat",
            )
        )
    return figures
