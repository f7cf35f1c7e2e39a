"""Helpers the experiments' summary tables share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "ReportTable",
    "over_a_floor",
    "part_rows",
    "report_tables",
    "spread",
    "spread_columns",
]


@dataclass(frozen=True)
class ReportTable:
    """One table of an experiment's report: its caption and how to make it from the frame.
    With ``part``, it is made only when the frame has rows of that part."""

    caption: str
    make: Callable[[pd.DataFrame], pd.DataFrame]
    part: str | None = None


def report_tables(
    frame: pd.DataFrame, declared: Sequence[ReportTable]
) -> list[tuple[str, pd.DataFrame]]:
    """The declared tables that have rows, captioned, in their declared order."""
    made = []
    for table in declared:
        if table.part is not None and part_rows(frame, table.part).empty:
            continue
        rows = table.make(frame)
        if len(rows):
            made.append((table.caption, rows))
    return made


def part_rows(frame: pd.DataFrame, part: str) -> pd.DataFrame:
    """The rows of one part of an experiment's frame (none when the frame has no parts)."""
    return frame[frame.part == part] if "part" in frame else frame.iloc[0:0]


def spread(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """``column``'s median with its min and max over repeats, and the count, per ``keys``."""
    grouped = frame.groupby(keys, dropna=False)[column]
    return pd.DataFrame({
        column: grouped.median(), f"{column}_min": grouped.min(),
        f"{column}_max": grouped.max(), "runs": grouped.count(),
    }).reset_index()  # fmt: skip


def spread_columns(table: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Per ``keys`` (in order of appearance): the count of rows as ``runs``, and each of
    ``columns`` as its median with ``_min`` and ``_max`` beside it."""
    grouped = table.groupby(keys, sort=False)
    out = grouped.size().rename("runs").to_frame()
    for column in columns:
        out[column] = grouped[column].median()
        out[f"{column}_min"] = grouped[column].min()
        out[f"{column}_max"] = grouped[column].max()
    return out.reset_index()


def over_a_floor(rows: pd.DataFrame, stage: str, stages: Mapping[str, str], floor: str,
                 us: str, keys: Sequence[str] = ()) -> pd.DataFrame:  # fmt: skip
    """Where the time goes: the ``stages`` (``{value of the stage column: label}``, in the
    order to show) with their time per item ``us`` and what each adds to the ``floor``
    stage's time in the same repeat (and ``keys``): ``us`` and ``added_us`` as medians
    with [min-max] over repeats. A floor is the least work the item takes (a native tool,
    or the library under ours), so ``added_us`` is the share of the path that is ours."""
    rows = rows[rows[stage].isin(list(stages))]
    on = ["repeat", *keys]
    base = rows.loc[rows[stage] == floor, [*on, us]].rename(columns={us: "floor_us"})
    if base.empty:
        return pd.DataFrame()
    rows = rows[[*on, stage, us]].merge(base, on=on, how="left")
    rows = rows.assign(added_us=rows[us] - rows.floor_us, stage=rows[stage].map(stages))
    order = {label: n for n, label in enumerate(stages.values())}
    rows = rows.sort_values([*keys, "stage"],
                            key=lambda c: c.map(order) if c.name == "stage" else c)  # fmt: skip
    return spread_columns(rows, [*keys, "stage"], [us, "added_us"])
