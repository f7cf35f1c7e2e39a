"""Helpers the experiments' summary tables share."""

from __future__ import annotations

import pandas as pd

__all__ = ["spread"]


def spread(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """``column``'s median with its min and max over repeats, and the count, per ``keys``."""
    grouped = frame.groupby(keys, dropna=False)[column]
    return pd.DataFrame({
        column: grouped.median(), f"{column}_min": grouped.min(),
        f"{column}_max": grouped.max(), "runs": grouped.count(),
    }).reset_index()  # fmt: skip
