"""The acquire stage table pairs each stage with the floor of its own round."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments.database import tables

ADDED = {"asyncpg pool": 0.0, "async with": 1.0, "async with, wait timed": 2.5,
         "DatabasePool": 3.0, "DatabasePool, lean engine": -12.0}  # fmt: skip


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


def test_each_engine_is_set_against_asyncpgs_pool_in_its_own_repeat() -> None:
    rows = pd.concat([_rounds([20.0] * 3, ADDED).assign(repeat=0),
                      _rounds([40.0] * 3, ADDED).assign(repeat=1)])  # fmt: skip
    summary = tables.acquire_summary(rows).set_index("variant")
    assert summary.loc["DatabasePool", "ratio_vs_asyncpg"] == pytest.approx((23 / 20 + 43 / 40) / 2)
    assert summary.loc["DatabasePool, lean engine", "ratio_min"] == pytest.approx(8 / 20)
    assert summary.loc["DatabasePool, lean engine", "ratio_max"] == pytest.approx(28 / 40)
    assert summary.loc["asyncpg pool", "ratio_vs_asyncpg"] == 1.0


def test_a_run_stored_before_the_lean_engine_has_the_asyncpg_engine_only() -> None:
    older = {"asyncpg pool": 0.0, "DatabasePool": 1.5}
    summary = tables.acquire_summary(_rounds([15.0, 15.0], older))
    assert list(summary.variant) == ["DatabasePool", "asyncpg pool"]
    assert summary.ratio_vs_asyncpg.tolist() == pytest.approx([1.1, 1.0])
