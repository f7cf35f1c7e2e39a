"""Figures with a spread found in report tables, and two runs compared figure by figure."""

from __future__ import annotations

import pandas as pd

from lab.report.cells import cells, compare, direction


def pool_table(rps: list[float], low: list[float], high: list[float]) -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["pool", "pool"], "pool_size": [8, 16], "runs": [3, 3],
        "rps": rps, "rps_min": low, "rps_max": high, "usl_sigma": [0.51, 0.52],
    })  # fmt: skip


def test_a_cell_is_a_figure_with_its_spread_keyed_by_its_row() -> None:
    found = cells("database", [("Throughput", pool_table([100, 200], [90, 190], [110, 210]))])
    assert [(dict(c.row), c.column, c.value, c.low, c.high, c.runs) for c in found] == [
        ({"variant": "pool", "pool_size": 8}, "rps", 100, 90, 110, 3),
        ({"variant": "pool", "pool_size": 16}, "rps", 200, 190, 210, 3),
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
                             "requests_max": [value]})  # fmt: skip

    (change,) = compare(cells("s", [("", table(20_000))]), cells("s", [("", table(42_000))]))[0]
    assert change.verdict == "changed"


def test_an_slo_line_is_better_on_the_side_of_its_bound() -> None:
    def verdict(bound: str, before: float, after: float) -> str:
        def table(value: float) -> pd.DataFrame:
            return pd.DataFrame({"metric": ["m"], "bound": [bound], "measured": [value],
                                 "measured_min": [value], "measured_max": [value]})  # fmt: skip

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
