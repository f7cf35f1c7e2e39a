"""The database experiment, small: behaviour (plans, counts, fits), not speed."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments.database import tables
from tests.experiment_frames import SessionFrames


@pytest.fixture(scope="module")
def frame(postgres_up: None, frames: SessionFrames) -> pd.DataFrame:
    return frames("database")


def test_the_seed_indexes_change_the_plans(frame: pd.DataFrame) -> None:
    table = tables.index_summary(frame).set_index(["query", "phase"])
    for query in ("user by email", "posts of a user, newest first", "latest posts"):
        assert not table.loc[(query, "before"), "uses_index"]
        assert table.loc[(query, "after"), "uses_index"]


def test_every_pool_size_and_the_naive_service_answered(frame: pd.DataFrame) -> None:
    table = tables.pool_size_summary(frame)
    assert list(table.pool_size) == [0, 1, 4, 16] * 2
    assert list(table.clients) == [8] * 4 + [32] * 4
    assert (table.rps > 0).all()
    assert frame[frame.part == "pool_size"].errors.sum() == 0
    per_clients = table.groupby("clients")
    assert (per_clients.recommended.sum() == 1).all() and (
        per_clients.measured_best.sum() == 1
    ).all()


def test_in_list_forms_differ_in_statements_not_rows(frame: pd.DataFrame) -> None:
    table = tables.in_list_summary(frame).set_index(["max_length", "form"])
    assert table.loc[(50, "= ANY"), "distinct_statements"] == 1
    assert table.loc[(50, "expanded IN"), "distinct_statements"] > 1


def test_every_variant_ran_against_pgbench(frame: pd.DataFrame) -> None:
    variants = set(tables.vs_pgbench(frame).variant)
    assert {"pgbench -S -M simple", "DatabasePool lean reset=none",
            "DatabasePool asyncpg reset=full"} <= variants  # fmt: skip


def test_usl_fit_finds_a_known_peak() -> None:
    sizes = [1, 2, 4, 8, 16, 32, 64]
    sigma, kappa, lam = 0.05, 0.002, 1000.0
    rates = [lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in sizes]
    fit = tables.usl_fit(sizes, rates)
    assert abs(fit["sigma"] - sigma) < 1e-6 and abs(fit["kappa"] - kappa) < 1e-6
    assert abs(fit["peak_n"] - ((1 - sigma) / kappa) ** 0.5) < 1e-3


def test_every_acquire_stage_ran_in_every_round(frame: pd.DataFrame) -> None:
    stages = tables.acquire_stages(frame)
    assert list(stages.stage) == list(tables.ACQUIRE_STAGES.values())
    assert (stages.runs == 5).all()  # one repeat of 5 rounds, each stage once a round
    assert (stages.us_per_acquire_release > 0).all()
    assert list(tables.acquire_summary(frame).variant) == [
        "DatabasePool", "DatabasePool, lean engine", "asyncpg pool"
    ]  # fmt: skip
