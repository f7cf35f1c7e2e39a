"""The acquire stage table pairs each stage with the floor of its own round."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments.database import tables

ADDED = {"asyncpg pool": 0.0, "async with": 1.0, "async with, wait timed": 2.5,
         "DatabasePool": 3.0}  # fmt: skip


def _rounds(floors: list[float], variants: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame([
        {"part": "acquire", "repeat": 0, "variant": variant,
         "us_per_acquire_release": floor + added}
        for floor in floors for variant, added in variants.items()
    ])  # fmt: skip


def test_a_drifting_floor_leaves_what_each_stage_adds() -> None:
    stages = tables.acquire_stages(_rounds([20.0, 40.0, 25.0, 60.0, 30.0], ADDED))
    assert list(stages.stage) == list(tables.ACQUIRE_STAGES.values())
    assert stages.added_us.tolist() == pytest.approx(list(ADDED.values()))
    assert stages.added_us_max.tolist() == pytest.approx(list(ADDED.values()))
    assert (stages.runs == 5).all()


def test_a_run_stored_before_the_stages_shows_floor_and_pool() -> None:
    older = {"asyncpg pool": 0.0, "DatabasePool": 1.5}
    stages = tables.acquire_stages(_rounds([15.0, 16.0], older))
    assert len(stages) == 2 and stages.added_us.tolist() == pytest.approx([0.0, 1.5])
