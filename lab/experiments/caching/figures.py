"""The caching experiment's plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
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
    failover = frame[frame.part == "failover"]
    failover = failover[failover.variant != "not run"] if len(failover) else failover
    if len(failover):
        figures.append(failover_timeline(failover))
    return figures


def failover_timeline(buckets: pd.DataFrame) -> Figure:
    """Per 100 ms of the first repeat, each variant's hit ratio and p99 latency, in seconds
    from the master's kill; the dotted lines are the promotions of its replica."""
    first = buckets[buckets.repeat == buckets.repeat.min()]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), squeeze=False)
    for (coverage, variant), run in first.groupby(["full_coverage", "variant"], sort=False):
        t = run.t_s - run.kill_s
        hit = 1 - run.origin_calls / run.calls.clip(lower=1)
        label = f"{variant}, full coverage {'required' if coverage else 'not required'}"
        (line,) = axes[0][0].plot(t, hit, linewidth=1.2, label=label)
        axes[0][1].plot(t, run.p99_ms, linewidth=1.2, color=line.get_color())
        for ax in axes[0]:
            ax.axvline((run.promoted_s - run.kill_s).iloc[0], color=line.get_color(),
                       linestyle=":", linewidth=1)  # fmt: skip
    for ax, label in zip(axes[0], ("hit ratio", "p99 latency, ms"), strict=True):
        ax.axvline(0, color="black", linewidth=1)
        ax.set_xlabel("seconds from the kill (dotted: replica promoted)")
        ax.set_title(label, fontsize=10)
    axes[0][1].set_yscale("log")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("A Redis Cluster master killed under steady calls", x=0.01, ha="left",
                 fontsize=11)  # fmt: skip
    fig.tight_layout()
    return fig
