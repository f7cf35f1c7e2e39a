"""Every ``track_*`` of an asv suite, read from a frame a test already measured: the asv
wrappers are checked in ``make test`` without running each experiment a second time."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pandas as pd


def tracked_values(suite: type, frame: pd.DataFrame) -> dict[str, float]:
    """``{track name: value}``, one per combination of the suite's ``params`` (named
    ``track[param, ...]``); a track whose row the frame lacks raises (asv would skip it)."""
    cells = suite.cells(frame)  # type: ignore[attr-defined]
    instance: Any = suite()
    combinations = list(itertools.product(*getattr(suite, "params", ())))
    values = {
        name + (f"{list(combination)}" if combination else ""): getattr(instance, name)(
            cells, *combination
        )
        for name in dir(suite)
        if name.startswith("track_")
        for combination in combinations
    }
    assert values, f"{suite.__name__} tracks nothing"
    for name, value in values.items():
        assert isinstance(value, float) and not math.isinf(value), (name, value)
    return values
