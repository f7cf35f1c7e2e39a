"""Helpers the experiments' summary tables share."""

from __future__ import annotations

import pandas as pd

__all__ = ["part_rows", "spread", "spread_columns"]


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
