"""The cdn experiment's plots."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lab.experiments.cdn import tables
from lab.harness import plots

__all__ = ["figures"]


def figures(frame: pd.DataFrame) -> list[Figure]:
    figures = []
    table = tables.browser_summary(frame)
    if len(table):
        first = table[table.visit == "first"]
        figures.append(
            plots.ratio_bars(
                first,
                column="vs_unoptimized",
                label_columns=["profile", "variant"],
                reference=0.5,
                xlabel="bytes of a first visit / the unoptimized page's (target for all: < 0.5)",
                title="First visit in Chromium: what each optimization saves (median, min-max)",
            )
        )
        repeat = table[table.visit == "repeat"]
        figures.append(
            plots.ratio_bars(
                repeat,
                column="vs_own_first",
                label_columns=["profile", "variant"],
                reference=0.05,
                xlabel="bytes of a repeat visit / the same page's first visit (target: < 0.05)",
                title="Repeat visit, same browser cache (median, min-max)",
            )
        )
        figures.append(
            plots.latency_bars(
                first,
                label_columns=["profile", "variant"],
                columns=("load_ms", "lcp_ms"),
                title="First visit: load event and Largest Contentful Paint, ms (median)",
            )
        )
    rates = tables.throughput_summary(frame)
    if len(rates):
        figures.append(
            plots.ratio_bars(
                rates,
                column="vs_aiohttp",
                label_columns=["case", "server"],
                xlabel="requests/s relative to aiohttp's add_static in the same round",
                title="Static handler throughput, one asset, 16 connections (median, min-max)",
            )
        )
    return figures
