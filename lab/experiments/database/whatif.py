"""What pool size does your service want? The Universal Scalability Law fitted to your own
pool-size measurements, or to a stored run's, with the size it recommends. No server;
instant.

X(N) = lambda N / (1 + sigma (N-1) + kappa N (N-1)): sigma is contention (the share of
the work that queues), kappa coherency (the cost of keeping N workers in step). When kappa
is above 0, throughput peaks at N* = sqrt((1 - sigma) / kappa) and falls after it. The
fit is :func:`lab.experiments.database.tables.usl_fit`, the one the experiment's table
uses. Throughput that has flattened without falling gives kappa 0 and no peak: the size to
take is then the smallest that reaches ``enough_percent`` of the best the curve reaches
over the measured range.
"""

from __future__ import annotations

import math
import re
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lab.errors import ConfigError
from lab.experiments.database import tables
from lab.harness.sliders import display, sliders

__all__ = [
    "client_counts",
    "parse_measurements",
    "show",
    "sliders_for",
    "stored_measurements",
    "what_if",
]

_PAIR = re.compile(r"^\s*(\d+)\s*:\s*([0-9]*\.?[0-9]+)\s*$")


def parse_measurements(text: str) -> dict[int, float]:
    """``"1:500, 4:1800, 16:3000"`` (pool size: requests/s) as a dict."""
    found: dict[int, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = _PAIR.match(item)
        if match is None or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
            raise ConfigError(f"{item!r}: give pool size:requests per second, such as "
                              "'1:500, 4:1800, 16:3000' (sizes from 1, rates above 0)")  # fmt: skip
        found[int(match.group(1))] = float(match.group(2))
    return found


def client_counts(frame: pd.DataFrame) -> list[int]:
    """The numbers of users the stored run measured pool sizes at, largest first."""
    table = tables.pool_size_summary(frame)
    return sorted({int(c) for c in table[table.pool_size > 0].clients}, reverse=True)


def stored_measurements(frame: pd.DataFrame, clients: int | None = None) -> dict[int, float]:
    """The stored run's pooled sizes and median rates at ``clients`` users (None: the
    most the run measured)."""
    counts = client_counts(frame)
    if not counts:
        raise ConfigError("the stored run has no pool-size measurements")
    clients = counts[0] if clients is None else clients
    if clients not in counts:
        raise ConfigError(f"the stored run measured pool sizes at "
                          f"{', '.join(map(str, counts))} users, not {clients}")  # fmt: skip
    table = tables.pool_size_summary(frame)
    rows = table[(table.clients == clients) & (table.pool_size > 0)]
    return {int(n): float(x) for n, x in zip(rows.pool_size, rows.rps, strict=True)}


def what_if(measurements: dict[int, float], enough_percent: float = 95.0
            ) -> tuple[pd.DataFrame, pd.DataFrame, Figure]:  # fmt: skip
    """The fit's coefficients and recommendation, measured beside fitted per size, and
    the figure."""
    if len(measurements) < 3:
        raise ConfigError("the USL has three coefficients: give at least three pool sizes")
    if not 50 <= enough_percent <= 100:
        raise ConfigError(f"enough_percent must be 50 to 100, not {enough_percent:g}")
    sizes = sorted(measurements)
    fit = tables.usl_fit([float(n) for n in sizes], [measurements[n] for n in sizes])
    curve_n = np.arange(1, max(sizes) * 2 + 1, dtype=float)
    curve_x = _usl(curve_n, fit)
    peaks = fit["kappa"] > 0 and fit["sigma"] < 1
    within = curve_n <= max(sizes)  # "enough" within what was measured, not extrapolated
    best = float(curve_x[within].max())
    enough = int(curve_n[within][np.argmax(curve_x[within] >= best * enough_percent / 100)])
    summary = pd.DataFrame([{
        "lambda_rps": fit["lambda"], "sigma": fit["sigma"], "kappa": fit["kappa"],
        "peak_n": fit["peak_n"] if peaks else math.nan,
        f"smallest_n_reaching_{enough_percent:g}_percent": enough,
        "recommended_n": min(enough, round(fit["peak_n"])) if peaks else enough,
    }])  # fmt: skip
    points = pd.DataFrame({"pool_size": sizes, "measured_rps": [measurements[n] for n in sizes],
                           "fitted_rps": _usl(np.array(sizes, dtype=float), fit)})  # fmt: skip
    return summary, points, _figure(points, curve_n, curve_x, summary.iloc[0])


def _usl(n: np.ndarray, fit: dict[str, float]) -> np.ndarray:
    return np.asarray(fit["lambda"] * n / (1 + fit["sigma"] * (n - 1)
                                           + fit["kappa"] * n * (n - 1)))  # fmt: skip


def _figure(points: pd.DataFrame, curve_n: np.ndarray, curve_x: np.ndarray,
            summary: pd.Series) -> Figure:  # fmt: skip
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(points.pool_size, points.measured_rps, "o", color="tab:blue", label="measured")
    ax.plot(curve_n, curve_x, "-", color="tab:orange",
            label=f"USL fit (sigma {summary.sigma:.3f}, kappa {summary.kappa:.5f})")  # fmt: skip
    ax.axvline(summary.recommended_n, color="tab:green", linestyle="--",
               label=f"recommended: {summary.recommended_n:g}")  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xlabel("pool size (connections)")
    ax.set_ylabel("requests/s")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    ax.set_title("Where more connections stop paying", fontsize=10)
    fig.tight_layout()
    plt.close(fig)
    return fig


def show(frame: pd.DataFrame | None = None, measurements: str = "",
         clients: int | None = None, enough_percent: float = 95.0) -> None:  # fmt: skip
    """Display the fit for ``measurements`` (``"size:rate, ..."``), or for the stored
    run's pool sizes at ``clients`` users (None: the most it measured) when it is empty
    (a notebook cell's output)."""
    found = parse_measurements(measurements) if measurements.strip() else {}
    if not found:
        if frame is None:
            raise ConfigError("give measurements ('1:500, 4:1800, 16:3000') or a stored run")
        found = stored_measurements(frame, clients)
    summary, points, figure = what_if(found, enough_percent)
    display(summary.round(5), points.round(1), figure)


def sliders_for(frame: pd.DataFrame) -> Any:
    """Sliders over :func:`show` for this run: your measurements (empty: the run's), the
    users, and what is enough (ipywidgets wants a named function of its controls)."""

    counts = client_counts(frame)

    def usl(measurements: str = "", clients: int = counts[0] if counts else 64,
            enough_percent: float = 95.0) -> None:  # fmt: skip
        show(frame, measurements, clients, enough_percent)

    # an empty text box: the stored run's sizes; type "1:500, 4:1800, 16:3000" for yours
    return sliders(usl, measurements="", clients=counts or [64],
                   enough_percent=(80.0, 100.0, 1.0))  # fmt: skip
