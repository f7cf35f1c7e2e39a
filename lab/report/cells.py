"""Every measured figure of a run as a flat list of cells, and two runs compared cell by cell.

A report table states a figure ``X`` with its spread when it has the columns ``X``,
``X_min`` and ``X_max`` (the median and the extremes over ``runs`` repeats). Such a figure
is a :class:`Cell`, found again in another run by its experiment, the table's caption,
the row's key (its text and whole-number columns: variant, workload, concurrency, ...)
and the column.

Two runs' cells differ *beyond noise* by a rule whose false-positive rate is bounded over
all the figures compared at once:

* Their [min, max] ranges do not overlap. That is complete rank separation, the most
  extreme outcome of a Mann-Whitney test: if both runs measured the same thing, its
  exact two-sided chance with ``n`` and ``m`` repeats is ``2 / C(n + m, n)``
  (:func:`separation_p`).
* That chance is at most :data:`FAMILY_ALPHA` divided by the number of figures compared
  (Bonferroni): two runs of the same code then flag no figure at all, except with
  probability at most 5 %. With fewer repeats than that needs (3 and 3 give 0.1), a
  figure is *too few repeats to judge*, never a regression or an improvement.
* The medians differ by more than :data:`NOISE_FLOOR`, the smallest effect worth a
  reader's time.

Whether a change is a regression depends on the figure's direction (:func:`direction`):
higher is better for rates and ratios of speed, lower for times, costs and losses; a
figure of neither kind is only said to have changed. Cells carry a median and extremes,
not every repeat, so the rule uses only separation: it can miss a real shift whose ranges
still overlap, and it never flags one whose ranges touch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

__all__ = [
    "FAMILY_ALPHA",
    "NOISE_FLOOR",
    "TOO_FEW",
    "Cell",
    "Change",
    "cells",
    "compare",
    "direction",
    "repeats_to_judge",
    "separation_p",
]

#: A change smaller than this share of the old median is noise, whatever the ranges.
NOISE_FLOOR = 0.05
#: The chance, over every figure of a comparison together, of flagging a change between
#: two runs of the same code.
FAMILY_ALPHA = 0.05
TOO_FEW = "too few repeats to judge"


def separation_p(n: int, m: int) -> float:
    """Exact two-sided chance that ``n`` and ``m`` repeats of the same distribution fall
    completely apart (every one of one run above every one of the other)."""
    if n < 1 or m < 1:
        return 1.0
    return min(1.0, 2 / math.comb(n + m, n))


def repeats_to_judge(figures: int, alpha: float = FAMILY_ALPHA) -> int:
    """The fewest repeats per run (the same in both) that can flag a change when
    ``figures`` are compared at once."""
    n = 1
    while separation_p(n, n) > alpha / max(1, figures):
        n += 1
    return n


Better = Literal["higher", "lower"] | None

_HIGHER = ("rps", "ops_s", "msgs_s", "qps", "mb_s", "items_per_s", "hit_ratio", "vs_java",
           "vs_aiohttp", "rate_vs_wrk", "rate_vs_redis_benchmark", "rps_vs_naive",
           "ratio_vs_pgbench_simple", "vs_one", "max_rate_meeting_slo", "success_rate",
           "goodput_share", "goodput_rps", "lines_passed_every_repeat")  # fmt: skip
_LOWER = ("_ms", "ns_per_call", "ns_per_op", "us_per_acquire_release", "ms_per_page",
          "ms_per_query", "cost_vs_redis_py", "ratio_vs_asyncpg", "overhead_ns",
          "origin_calls", "lost", "duplicates", "duplicates_per_crash", "errors",
          "budget_spent", "peak_mib", "bytes", "settle_s", "steady_error", "time_to_open_s",
          "time_to_recover_s", "reached_during_fault", "failed_share", "vs_semaphore",
          "cpu_us_per_request", "added_cpu_percent", "rejected_share", "timed_out_share",
          "execution_ms", "p99_ratio", "over_1s", "vs_unoptimized")  # fmt: skip


def direction(column: str) -> Better:
    """Which way is better for a figure named ``column`` (None: neither is)."""
    if column in _HIGHER or column == "ratio":
        return "higher"
    if column in _LOWER or column.endswith(("_ms", "_ms_per_page")):
        return "lower"
    return None


@dataclass(frozen=True)
class Cell:
    experiment: str
    caption: str
    row: tuple[tuple[str, Any], ...]  # the row's key: (column, value) pairs
    column: str
    value: float
    low: float
    high: float
    runs: int

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, Any], ...], str]:
        return (self.experiment, self.caption, self.row, self.column)

    @property
    def better(self) -> Better:
        """The column's direction; an SLO line's ``measured`` goes the way of its bound."""
        bound = dict(self.row).get("bound")
        if self.column == "measured" and bound in ("below", "above"):
            return "lower" if bound == "below" else "higher"
        return direction(self.column)

    def where(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in self.row)


def _measured_name(column: str) -> bool:
    return direction(column) is not None or column.endswith(("ops_s", "_mib", "_per_call"))


def _key_columns(table: pd.DataFrame, measured: set[str]) -> list[str]:
    """The leading columns that say what a row is (up to ``runs`` or the first figure),
    widened with the other plain columns if they do not tell the rows apart."""
    keys: list[str] = []
    for column in table.columns:
        if column in measured:
            break
        if not _measured_name(column):
            keys.append(column)
    if keys and table.duplicated(subset=keys).any():
        keys += [c for c in table.columns
                 if c not in keys and c not in measured and not _measured_name(c)]  # fmt: skip
    return keys


def _spread_columns(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """``(figure, its min column, its max column)``; a lone ``ratio``/``ratio_vs_*`` may
    have its spread in ``ratio_min``/``ratio_max``."""
    found = []
    for column in table.columns:
        low, high = f"{column}_min", f"{column}_max"
        if low not in table and (column == "ratio" or column.startswith("ratio_vs")):
            low, high = "ratio_min", "ratio_max"
        if low in table and high in table:
            found.append((column, low, high))
    return found


def _table_cells(experiment: str, caption: str, table: pd.DataFrame) -> list[Cell]:
    spread = _spread_columns(table)
    measured = {name for triple in spread for name in triple} | {"runs"}
    keys = _key_columns(table, measured)
    found = []
    for _, row in table.iterrows():
        key = tuple((name, _plain(row[name])) for name in keys)
        runs = int(row["runs"]) if "runs" in row and pd.notna(row["runs"]) else 1
        for column, low, high in spread:
            value = row[column]
            if isinstance(value, (int, float)) and not math.isnan(value):
                found.append(Cell(experiment, caption, key, column, float(value),
                                  float(row[low]), float(row[high]), runs))  # fmt: skip
    return found


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and math.isfinite(value) and value == round(value):
        return int(value)
    return value


def cells(experiment: str, tables: list[tuple[str, pd.DataFrame]]) -> list[Cell]:
    """Every figure with a spread in an experiment's report tables."""
    found: list[Cell] = []
    for caption, table in tables:
        found.extend(_table_cells(experiment, caption, table))
    return found


@dataclass(frozen=True)
class Change:
    old: Cell
    new: Cell
    #: The level each figure is judged at: :data:`FAMILY_ALPHA` over the figures compared.
    alpha: float = FAMILY_ALPHA

    @property
    def ratio(self) -> float:
        return self.new.value / self.old.value if self.old.value else math.nan

    @property
    def judgeable(self) -> bool:
        """Enough repeats that complete separation would be significant at ``alpha``."""
        return separation_p(self.old.runs, self.new.runs) <= self.alpha

    @property
    def beyond_noise(self) -> bool:
        apart = self.new.low > self.old.high or self.new.high < self.old.low
        moved = abs(self.new.value - self.old.value) > NOISE_FLOOR * abs(self.old.value)
        return self.judgeable and apart and moved

    @property
    def verdict(self) -> str:
        """``regression``, ``improvement``, ``changed`` (no direction), ``within noise``, or
        :data:`TOO_FEW` when no outcome of so few repeats could be told from noise."""
        if not self.judgeable:
            return TOO_FEW
        if not self.beyond_noise:
            return "within noise"
        better = self.new.better
        if better is None:
            return "changed"
        up = self.new.value > self.old.value
        return "improvement" if up == (better == "higher") else "regression"


def compare(old: list[Cell], new: list[Cell]) -> tuple[list[Change], list[Cell], list[Cell]]:
    """Changes of the cells both runs have; then the cells only the new and only the old
    run have (settings differ, or an experiment ran in one of them only)."""
    before = {cell.key: cell for cell in old}
    after = {cell.key: cell for cell in new}
    both = [key for key in after if key in before]
    alpha = FAMILY_ALPHA / max(1, len(both))  # Bonferroni over every figure compared
    changes = [Change(before[key], after[key], alpha) for key in both]
    return (changes, [c for k, c in after.items() if k not in before],
            [c for k, c in before.items() if k not in after])  # fmt: skip
