"""Plots every channel shares (notebooks, the report): matplotlib figures and inline SVG."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

__all__ = ["latency_bars", "ratio_bars", "to_svg"]

plt.rcParams.update({"svg.hashsalt": "lab", "svg.fonttype": "none", "figure.dpi": 100})


def _labels(table: pd.DataFrame, columns: list[str]) -> list[str]:
    return [" ".join(str(row[c]) for c in columns) for _, row in table.iterrows()]


def ratio_bars(
    table: pd.DataFrame,
    *,
    label_columns: list[str],
    ratio: str = "ratio",
    low: str = "ratio_min",
    high: str = "ratio_max",
    title: str = "",
    xlabel: str = "ratio (1.0 = as fast as the reference)",
) -> Figure:
    """Horizontal bars of a ratio per row, with a min-max whisker over the repeats."""
    labels = _labels(table, label_columns)
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(labels) + 1.2))
    values = table[ratio].to_numpy()
    errors = [values - table[low].to_numpy(), table[high].to_numpy() - values]
    ax.barh(labels, values, xerr=errors, color="#4c72b0", capsize=3)
    ax.axvline(1.0, color="#888", linewidth=1, linestyle="--")
    ax.set_xlim(0, max(1.1, float(table[high].max()) * 1.15))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left", fontsize=11)
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.2f}", va="center", fontsize=8)
    fig.tight_layout()
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
    fig.tight_layout()
    return fig


_BEFORE_SVG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>", re.S)


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prolog, no metadata)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return _METADATA.sub("", _BEFORE_SVG.sub("", buffer.getvalue(), count=1))
