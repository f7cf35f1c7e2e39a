"""Every ``track_*`` of an asv suite, read from a frame a test already measured: the asv
wrappers are checked in ``make test`` without running each experiment a second time."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def tracked_values(suite: type, frame: pd.DataFrame) -> dict[str, float]:
    """``{track name: value}``; a track whose row the frame lacks raises (asv would skip it)."""
    cells = suite.cells(frame)  # type: ignore[attr-defined]
    instance: Any = suite()
    values = {name: getattr(instance, name)(cells) for name in dir(suite)
              if name.startswith("track_")}  # fmt: skip
    assert values, f"{suite.__name__} tracks nothing"
    for name, value in values.items():
        assert isinstance(value, float) and not math.isinf(value), (name, value)
    return values
