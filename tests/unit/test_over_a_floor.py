"""Stage tables: each stage's time per item beside the floor's in the same repeat."""

from __future__ import annotations

import pandas as pd

from lab.experiments.tables import over_a_floor

STAGES = {"native": "the native tool (floor)", "ours": "our path", "batched": "our batches"}


def test_each_stage_adds_to_the_floor_of_its_own_repeat_and_key() -> None:
    rows = pd.DataFrame({
        "repeat": [0, 0, 0, 1, 1, 1, 0, 0, 0],
        "level": [1, 1, 1, 1, 1, 1, 50, 50, 50],
        "tool": ["ours", "native", "batched", "native", "ours", "batched", "native", "ours",
                 "other"],
        "us": [12.0, 10.0, 4.0, 20.0, 26.0, 5.0, 3.0, 4.0, 99.0],
    })  # fmt: skip
    table = over_a_floor(rows, "tool", STAGES, "native", "us", keys=["level"])
    got = {(r.level, r.stage): (r.us, r.added_us, r.added_us_min, r.added_us_max, r.runs)
           for r in table.itertuples()}  # fmt: skip
    assert got == {
        (1, "the native tool (floor)"): (15.0, 0.0, 0.0, 0.0, 2),
        (1, "our path"): (19.0, 4.0, 2.0, 6.0, 2),  # 12 - 10 and 26 - 20, not 26 - 10
        (1, "our batches"): (4.5, -10.5, -15.0, -6.0, 2),
        (50, "the native tool (floor)"): (3.0, 0.0, 0.0, 0.0, 1),
        (50, "our path"): (4.0, 1.0, 1.0, 1.0, 1),
    }
    # in the order the stages were given, per key; a stage not named is left out
    assert list(table.stage[table.level == 1]) == list(STAGES.values())


def test_no_floor_no_table() -> None:
    rows = pd.DataFrame({"repeat": [0], "tool": ["ours"], "us": [1.0]})
    assert over_a_floor(rows, "tool", STAGES, "native", "us").empty
