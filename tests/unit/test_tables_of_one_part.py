"""A run of one part (`lab run X --set 'X.parts=[part]'`) stores only that part's columns:
every experiment's tables, headlines and figures must still render from it, with no
traceback (a KeyError or AttributeError on a column another part writes)."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments import EXPERIMENTS
from lab.experiments.stored import REFERENCE
from lab.harness.results import Run
from lab.report.headlines import headlines


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_each_part_alone_renders(name: str) -> None:
    frame = Run(REFERENCE).read_frame(name)
    if "part" not in frame:
        pytest.skip(f"{name} is not split into parts")
    for part in frame.part.dropna().unique():
        alone = frame[frame.part == part].dropna(axis=1, how="all")  # as its CSV holds it
        tables = EXPERIMENTS[name].tables(alone)
        assert all(isinstance(table, pd.DataFrame) for _, table in tables), part
        headlines(name, tables)
