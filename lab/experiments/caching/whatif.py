"""What if the cache were bigger, or the keys more or less skewed? The hit-ratio part of
the experiment, run for the sizes and skew you choose: an LRU (the lab's ``MemoryCache``
on a virtual clock) over Zipf-distributed keys, beside the best any cache of that size
could do (it would hold the most popular keys). No server; about a second.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from lab.errors import ConfigError
from lab.experiments.caching import measure, tables
from lab.harness.sliders import display

__all__ = ["show", "what_if"]

SIZES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)


def what_if(skew: float = 1.0, keyspace: int = 2_000, requests: int = 20_000,
            size_fractions: tuple[float, ...] = SIZES, seed: int = 0
            ) -> tuple[pd.DataFrame, Figure]:  # fmt: skip
    """Hit ratio of an LRU holding each share of ``keyspace`` keys, over ``requests``
    lookups drawn with Zipf ``skew`` (and uniformly, for contrast); the first fifth warms
    the cache."""
    if not 0 < skew <= 3:
        raise ConfigError(f"skew must be above 0 and at most 3, not {skew}")
    if keyspace < 10 or requests < 5 * keyspace // 10:
        raise ConfigError("keyspace must be at least 10, and requests at least half of it")
    if not size_fractions or not all(0 < f <= 1 for f in size_fractions):
        raise ConfigError("size_fractions must be shares of the keyspace, above 0, up to 1")
    settings = measure.quick_settings(keyspace=keyspace, requests=requests, skews=(skew,),
                                      size_fractions=tuple(sorted(size_fractions)),
                                      ttl_s=(float("inf"),))  # fmt: skip
    frame = pd.DataFrame(measure._hit_ratio(settings, seed))
    table = tables.hit_ratio_summary(frame)
    table = table[["distribution", "size_fraction", "cache_size", "hit_ratio", "best_ratio"]]
    return table.reset_index(drop=True), _figure(table, skew)


def _figure(table: pd.DataFrame, skew: float) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for distribution, color in (("zipf", "tab:blue"), ("uniform", "tab:grey")):
        rows = table[table.distribution == distribution]
        label = f"Zipf s={skew:g}" if distribution == "zipf" else "uniform"
        ax.plot(rows.size_fraction, rows.hit_ratio, "o-", color=color, label=f"LRU, {label}")
        ax.plot(rows.size_fraction, rows.best_ratio, "--", color=color,
                label=f"best possible, {label}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("cache size, share of the keys")
    ax.set_ylabel("hit ratio")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title("What a cache of each size catches", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show(**arguments: Any) -> None:
    """Display :func:`what_if`'s table and figure (a notebook cell's output)."""
    table, figure = what_if(**arguments)
    display(table.round(3), figure)
