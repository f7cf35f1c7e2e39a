"""The in-process stage table of the metrics' cost: every stage measured, and the table's
shares computed against the plain request path of the same repeat."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lab.experiments.load_control.monitoring_stages import STAGES, stage_costs
from lab.experiments.load_control.tables import monitoring_stages


def test_every_stage_is_timed_over_real_aiohttp_requests() -> None:
    costs = stage_costs(ops=200, rounds=1)
    assert list(costs) == list(STAGES)
    assert all(ns > 0 and math.isfinite(ns) for ns in costs.values())


def test_paths_are_shares_of_the_plain_path_in_the_same_repeat() -> None:
    rows = [{"part": "monitoring_stages", "repeat": repeat, "stage": stage, "ns": ns}
            for repeat, scale in ((0, 1.0), (1, 2.0))
            for stage, ns in ((STAGES[0], 1000 * scale), (STAGES[2], 1100 * scale),
                              (STAGES[4], 50 * scale))]  # fmt: skip
    table = monitoring_stages(pd.DataFrame(rows)).set_index("stage")
    assert list(table.index) == [STAGES[0], STAGES[2], STAGES[4]]  # measured order
    assert table.loc[STAGES[2], "vs_plain_path_percent"] == pytest.approx(10.0)  # both repeats
    assert table.loc[STAGES[0], "vs_plain_path_percent"] == 0.0
    assert math.isnan(table.loc[STAGES[4], "vs_plain_path_percent"])  # not a path
    assert table.loc[STAGES[4], "ns"] == 75.0 and table.loc[STAGES[4], "runs"] == 2
