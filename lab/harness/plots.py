"""Plots every channel shares (notebooks, the report): matplotlib figures and inline SVG."""

from __future__ import annotations

import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

__all__ = [
    "latency_bars",
    "limit_timeline",
    "outcome_timeline",
    "ratio_bars",
    "slo_timeline",
    "to_svg",
]


def _tight(fig: Figure) -> None:
    """``tight_layout``, without failing when long labels leave it no room (matplotlib then
    warns and keeps the layout it has: a cosmetic matter, not an error)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied")
        fig.tight_layout()


plt.rcParams.update({"svg.hashsalt": "lab", "svg.fonttype": "none", "figure.dpi": 100})


def _labels(table: pd.DataFrame, columns: list[str]) -> list[str]:
    return [" ".join(str(row[c]) for c in columns) for _, row in table.iterrows()]


def ratio_bars(
    table: pd.DataFrame,
    *,
    label_columns: list[str],
    column: str | None = None,
    ratio: str = "ratio",
    low: str = "ratio_min",
    high: str = "ratio_max",
    title: str = "",
    xlabel: str = "ratio (1.0 = as fast as the reference)",
    reference: float | None = 1.0,
) -> Figure:
    """Horizontal bars of a ratio per row, with a min-max whisker over the repeats.
    ``column="x"`` draws ``x`` with ``x_min`` and ``x_max`` (a summary's spread columns)."""
    if column is not None:
        ratio, low, high = column, f"{column}_min", f"{column}_max"
    labels = _labels(table, label_columns)
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(labels) + 1.2))
    values = table[ratio].to_numpy()
    errors = [values - table[low].to_numpy(), table[high].to_numpy() - values]
    ax.barh(labels, values, xerr=errors, color="#4c72b0", capsize=3)
    if reference is not None:
        ax.axvline(reference, color="#888", linewidth=1, linestyle="--")
    ax.set_xlim(0, max((reference or 0) * 1.1, float(table[high].max()) * 1.15))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.3g}", va="center", fontsize=8)
    _tight(fig)
    return fig


def latency_bars(
    table: pd.DataFrame,
    *,
    label_columns: list[str],
    columns: tuple[str, ...] = ("p50_ms", "p99_ms"),
    title: str = "",
) -> Figure:
    """Grouped horizontal bars of latency percentiles per row (log scale, milliseconds)."""
    labels = _labels(table, label_columns)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(labels) + 1.2))
    height = 0.8 / len(columns)
    for index, column in enumerate(columns):
        positions = [y + index * height for y in range(len(labels))]
        ax.barh(positions, table[column], height=height, label=column)
    ax.set_yticks([y + 0.4 - height / 2 for y in range(len(labels))], labels)
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds (log scale)")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=8)
    _tight(fig)
    return fig


OUTCOME_COLOURS = {"success": "#55a868", "failure": "#c44e52", "rejected": "#8c8c8c"}


def outcome_timeline(calls: pd.DataFrame, *, title: str = "") -> Figure:
    """One row per (scenario, variant): a dot per call at its send time, coloured by
    outcome; the fault window (``fault_start_s``..``fault_end_s``) is shaded."""
    first = calls[(calls.repeat == calls.repeat.min()) & (calls.outcome != "transition")]
    groups = list(first.groupby(["part", "variant"], sort=False))
    fig, ax = plt.subplots(figsize=(8.5, 0.42 * len(groups) + 1.4))
    for y, (_, group) in enumerate(groups):
        start, end = group.fault_start_s.iloc[0], group.fault_end_s.iloc[0]
        ax.fill_betweenx([y - 0.45, y + 0.45], start, end, color="#f2e6c9", zorder=0)
        for outcome, colour in OUTCOME_COLOURS.items():
            chosen = group[group.outcome == outcome]
            ax.scatter(chosen.t_s, [y] * len(chosen), s=4, color=colour,
                       label=outcome if y == 0 else None)  # fmt: skip
    ax.set_yticks(range(len(groups)), [f"{part}: {variant}" for (part, variant), _ in groups])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the start (send time)")
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=8, loc="lower right", markerscale=3)
    _tight(fig)
    return fig


def limit_timeline(points: pd.DataFrame, *, title: str = "") -> Figure:
    """One panel per scenario: each variant's concurrency limit over time (``t_s``,
    ``limit``) against the server's capacity (``capacity``, dashed), first repeat only."""
    first = points[points.repeat == points.repeat.min()]
    scenarios = list(dict.fromkeys(first.scenario))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(4.2 * len(scenarios), 3.4),
                             sharey=True, squeeze=False)  # fmt: skip
    for ax, scenario in zip(axes[0], scenarios, strict=True):
        runs = first[first.scenario == scenario]
        for variant, run in runs.groupby("variant", sort=False):
            if run.limit.notna().any() and not str(variant).startswith("fixed"):
                ax.step(run.t_s, run.limit, where="post", label=str(variant), linewidth=1.2)
        capacity = runs.drop_duplicates("t_s")
        ax.step(capacity.t_s, capacity.capacity, where="post", color="black",
                linestyle="--", linewidth=1.2, label="capacity C")  # fmt: skip
        ax.set_title(scenario, fontsize=10)
        ax.set_xlabel("seconds (virtual)")
    axes[0][0].set_ylabel("concurrency limit")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    _tight(fig)
    return fig


def slo_timeline(seconds: pd.DataFrame, *, lines: dict[str, float], title: str = "") -> Figure:
    """Per second of load (``t_s``), one line per ``variant`` (first repeat): requests/s
    answered without error, p99 latency (log scale, the SLO's p99 line dashed) and machine
    CPU %. (Frames from before ``ok_rps`` show every ended request, errors included.)"""
    first = seconds[seconds.repeat == seconds.repeat.min()]
    answered = (("ok_rps", "requests/s answered without error") if "ok_rps" in first
                else ("rps", "requests/s ended, errors included"))  # fmt: skip
    panels = [(*answered, None), ("p99_ms", "p99 latency, ms", "p99"),
              ("cpu_percent", "machine CPU %", "cpu")]  # fmt: skip
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), squeeze=False)
    for ax, (column, label, line) in zip(axes[0], panels, strict=True):
        for variant, run in first.groupby("variant", sort=False):
            if column in run:
                ax.plot(run.t_s, run[column], linewidth=1.2, label=str(variant))
        if line is not None and line in lines:
            ax.axhline(lines[line], color="#888", linestyle="--", linewidth=1)
        if column == "p99_ms":
            ax.set_yscale("log")
        ax.set_xlabel("seconds from the start of the load")
        ax.set_title(label, fontsize=10)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    _tight(fig)
    return fig


_BEFORE_SVG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.S)


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prolog, no metadata)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return _METADATA.sub("", _BEFORE_SVG.sub("", buffer.getvalue(), count=1))
