"""Figures with a spread found in report tables, and two runs compared figure by figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lab.report.cells import (
    TOO_FEW,
    Cell,
    cells,
    compare,
    direction,
    repeats_to_judge,
    separation_p,
)


def pool_table(rps: list[float], low: list[float], high: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["pool", "pool"], "pool_size": [8, 16], "runs": [5, 5],
        "rps": rps, "rps_min": low, "rps_max": high, "usl_sigma": [0.51, 0.52],
    })  # fmt: skip


def test_a_cell_is_a_figure_with_its_spread_keyed_by_its_row() -> None:
    found = cells("database", [("Throughput", pool_table([100, 200], [90, 190], [110, 210]))])
    assert [(dict(c.row), c.column, c.value, c.low, c.high, c.runs) for c in found] == [
        ({"variant": "pool", "pool_size": 8}, "rps", 100, 90, 110, 5),
        ({"variant": "pool", "pool_size": 16}, "rps", 200, 190, 210, 5),
    ]  # usl_sigma has no spread: not a cell, and not part of the key either


def test_a_ratio_may_keep_its_spread_in_ratio_min_and_max() -> None:
    table = pd.DataFrame({"variant": ["DatabasePool"], "ratio_vs_asyncpg": [1.12],
                          "ratio_min": [1.1], "ratio_max": [1.13], "runs": [15]})  # fmt: skip
    (cell,) = cells("database", [("", table)])
    assert (cell.column, cell.low, cell.high) == ("ratio_vs_asyncpg", 1.1, 1.13)


def test_rows_the_leading_columns_cannot_tell_apart_are_keyed_by_more() -> None:
    table = pd.DataFrame({"distribution": ["zipf", "zipf"], "ttl_s": [5.0, float("inf")],
                          "hit_ratio": [0.6, 0.7], "hit_ratio_min": [0.5, 0.6],
                          "hit_ratio_max": [0.7, 0.8]})  # fmt: skip
    keys = {cell.row for cell in cells("caching", [("", table)])}
    assert len(keys) == 2


def test_verdicts_follow_ranges_the_noise_floor_and_direction() -> None:
    old = cells("db", [("", pool_table([100, 200], [90, 190], [110, 210]))])
    slower = cells("db", [("", pool_table([70, 205], [60, 195], [80, 215]))])
    changes, only_new, only_old = compare(old, slower)
    assert [c.verdict for c in changes] == ["regression", "within noise"]
    assert only_new == [] and only_old == []
    faster = cells("db", [("", pool_table([140, 200], [130, 190], [150, 210]))])
    assert [c.verdict for c in compare(old, faster)[0]] == ["improvement", "within noise"]
    # apart but within 5 %: still noise
    close = cells("db", [("", pool_table([104, 200], [103.5, 199], [104.5, 201]))])
    assert compare(cells("db", [("", pool_table([100, 200], [99.5, 199], [100.5, 201]))]),
                   close)[0][0].verdict == "within noise"  # fmt: skip


def test_a_figure_without_a_direction_only_changes() -> None:
    def table(value: float) -> pd.DataFrame:
        return pd.DataFrame({"run": ["fault"], "requests": [value], "requests_min": [value],
                             "requests_max": [value], "runs": [5]})  # fmt: skip

    (change,) = compare(cells("s", [("", table(20_000))]), cells("s", [("", table(42_000))]))[0]
    assert change.verdict == "changed"


def test_an_slo_line_is_better_on_the_side_of_its_bound() -> None:
    def verdict(bound: str, before: float, after: float) -> str:
        def table(value: float) -> pd.DataFrame:
            return pd.DataFrame({"metric": ["m"], "bound": [bound], "measured": [value],
                                 "measured_min": [value], "measured_max": [value],
                                 "runs": [5]})  # fmt: skip

        (change,) = compare(cells("s", [("", table(before))]), cells("s", [("", table(after))]))[0]
        return change.verdict

    assert verdict("below", 10, 20) == "regression"
    assert verdict("above", 10, 20) == "improvement"


def test_only_in_one_run_is_reported_not_compared() -> None:
    one = cells("db", [("", pool_table([100, 200], [90, 190], [110, 210]))])
    other = cells("db", [("", pool_table([100, 200], [90, 190], [110, 210]).assign(
        pool_size=[8, 32]))])  # fmt: skip
    changes, only_new, only_old = compare(one, other)
    assert len(changes) == 1 and len(only_new) == 1 and len(only_old) == 1


def test_directions() -> None:
    assert direction("rps") == "higher" and direction("ratio") == "higher"
    assert direction("p99_ms") == "lower" and direction("cost_vs_redis_py") == "lower"
    assert direction("requests") is None


def test_separation_is_the_exact_mann_whitney_extreme() -> None:
    assert separation_p(2, 2) == pytest.approx(1 / 3)
    assert separation_p(3, 3) == pytest.approx(0.1)
    assert separation_p(5, 5) == pytest.approx(2 / 252)
    assert repeats_to_judge(1) == 4  # 2 / C(8, 4) = 0.029
    assert repeats_to_judge(100) == 8  # 2 / C(16, 8) = 0.00016 <= 0.05 / 100


def test_with_too_few_repeats_a_figure_is_never_a_regression() -> None:
    three = pool_table([100, 200], [90, 190], [110, 210]).assign(runs=3)
    slower = pool_table([50, 100], [45, 95], [55, 105]).assign(runs=3)
    changes, _, _ = compare(cells("db", [("", three)]), cells("db", [("", slower)]))
    assert [c.verdict for c in changes] == [TOO_FEW, TOO_FEW]


def _random_cells(rng: np.random.Generator, figures: int, repeats: int,
                  shift: float = 1.0) -> list[Cell]:  # fmt: skip
    samples = rng.lognormal(mean=0.0, sigma=0.2, size=(figures, repeats))
    samples[0] *= shift  # the planted change, on the first figure only
    table = pd.DataFrame({
        "variant": [f"v{i}" for i in range(figures)], "ns_per_call": np.median(samples, 1),
        "ns_per_call_min": samples.min(1), "ns_per_call_max": samples.max(1),
        "runs": [repeats] * figures,
    })  # fmt: skip
    return cells("x", [("", table)])


def test_runs_of_the_same_code_flag_nothing_in_at_most_5_percent_of_comparisons() -> None:
    """400 pairs of runs of one distribution, 60 figures each, 8 repeats a run."""
    rng = np.random.default_rng(7)
    flagged = 0
    for _ in range(400):
        changes, _, _ = compare(_random_cells(rng, 60, 8), _random_cells(rng, 60, 8))
        assert all(c.verdict != TOO_FEW for c in changes)
        flagged += any(c.beyond_noise for c in changes)
    assert flagged / 400 <= 0.05


def test_a_planted_slowdown_of_one_figure_is_flagged() -> None:
    """Its power: a 3x slowdown of one figure among 60, 8 repeats a run, noise of 20 %.
    The rule sees only the extremes, so an outlier now and then hides even this."""
    rng = np.random.default_rng(11)
    verdicts, others = [], 0
    for _ in range(200):
        changes, _, _ = compare(_random_cells(rng, 60, 8), _random_cells(rng, 60, 8, 3.0))
        verdicts.append(changes[0].verdict)
        others += any(c.beyond_noise for c in changes[1:])
    assert verdicts.count("regression") / 200 >= 0.9
    assert others / 200 <= 0.05  # the unchanged figures stay within the family's rate
