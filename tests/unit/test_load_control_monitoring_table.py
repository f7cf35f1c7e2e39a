"""The request-metrics rows of load_control's tables: paired rounds, and the 5 % line
judged only where every endpoint kept up with the offered rate."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments.load_control import measure, tables

VARIANTS = {"plain": 100.0, "empty middleware": 104.0, "metrics middleware": 106.0,
            "metrics server handler": 104.5, "metrics access log": 103.0}  # fmt: skip


def _frame(achieved: dict[str, float], offered: float | None = 800.0) -> pd.DataFrame:
    rows = []
    for round_ in range(3):
        for variant, cpu in VARIANTS.items():
            row = {"part": "monitoring", "stack": "aiohttp", "variant": variant, "repeat": 0,
                   "round": round_, "rps": achieved.get(variant, 800.0),
                   "cpu_us_per_request": cpu * (1 + round_ / 10)}  # fmt: skip
            if offered is not None:
                row["offered_rps"] = offered
            rows.append(row)
    return pd.DataFrame(rows)


def _verdicts(frame: pd.DataFrame) -> dict[str, tuple[str, object]]:
    found = tables.targets(frame)
    return {row.target: (row.measured, row.met) for row in found.itertuples()}


def test_cpu_is_paired_within_a_round_even_as_every_round_drifts() -> None:
    summary = tables.monitoring_summary(_frame({})).set_index("variant")
    assert summary.loc["metrics middleware", "added_cpu_percent"] == pytest.approx(6.0)
    assert summary.loc["metrics middleware", "added_cpu_percent_max"] == pytest.approx(6.0)
    assert summary.loc["metrics access log", "vs_empty_percent"] < 0


def test_the_line_is_judged_when_every_endpoint_kept_up() -> None:
    verdicts = _verdicts(_frame({"plain": 790.0}))  # 98.8 % of the offered rate
    assert verdicts["metrics middleware adds at most 5 % (aiohttp)"][1] is False
    assert verdicts["metrics server handler adds at most 5 % (aiohttp)"][1] is True
    assert verdicts["metrics access log adds at most 5 % (aiohttp)"][1] is True
    assert "empty middleware adds at most 5 % (aiohttp)" not in verdicts  # a baseline


def test_an_endpoint_that_fell_behind_leaves_the_line_unjudged() -> None:
    verdicts = _verdicts(_frame({"plain": 700.0}))
    for measured, met in verdicts.values():
        assert met is None
        assert "not judged" in measured and "800 requests/s" in measured


def test_a_run_stored_before_the_offered_rate_is_still_judged() -> None:
    verdicts = _verdicts(_frame({"plain": 700.0}, offered=None))
    assert verdicts["metrics access log adds at most 5 % (aiohttp)"][1] is True


def test_every_endpoint_takes_every_place_in_turn() -> None:
    served = {name: f"http://127.0.0.1:{port}/" for port, name in enumerate(VARIANTS)}
    orders = [list(measure._rotated(served, by)) for by in range(len(served))]
    for place in range(len(served)):
        assert {order[place] for order in orders} == set(served)
    assert measure._rotated(served, len(served)) == served  # a whole turn: back to the start
