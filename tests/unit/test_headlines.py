"""Headline figures are picked from report tables with their spread and repeats."""

from __future__ import annotations

import pandas as pd

from lab.experiments.headlines import headlines


def stampede(origin_calls: list[float]) -> list[tuple[str, pd.DataFrame]]:
    table = pd.DataFrame({
        "callers": [1000, 1000], "mode": ["single-flight", "none"],
        "wave": ["after expiry", "after expiry"], "origin_calls": origin_calls,
        "origin_calls_min": [1.0, 832.0], "origin_calls_max": [1.0, 1000.0], "runs": [3, 3],
    })  # fmt: skip
    return [("Origin calls and caller waits when N callers meet one expiry", table)]


def test_headlines_carry_the_median_spread_and_repeats() -> None:
    found = {h.label: h for h in headlines("caching", stampede([1.0, 1000.0]))}
    unprotected = found["origin calls, 1000 callers at one expiry, unprotected"]
    assert unprotected.text() == "1,000 [832-1,000], 3 runs"
    assert found["origin calls, 1000 callers at one expiry, single-flight"].cell.value == 1


def test_a_quick_run_without_a_row_simply_lacks_that_headline() -> None:
    assert [h.label for h in headlines("caching", stampede([1.0, 1000.0])[:0])] == []
    assert headlines("no such experiment", stampede([1.0, 1000.0])) == []


def test_a_figure_stated_without_spread_says_so() -> None:
    outage = pd.DataFrame({"variant": ["consecutive(5)"], "runs": [2],
                           "reached_during_fault": [7.5], "reached_max": [8.0],
                           "time_to_open_s": [0.055]})  # fmt: skip
    found = {h.label: h for h in headlines("resilience", [("Outage: 500s", outage)])}
    assert found["seconds to open, consecutive(5)"].text() == "0.055, 2 runs"


def test_peers_are_named() -> None:
    cost = pd.DataFrame({
        "workload": ["hit"], "concurrency": [50], "variant": ["cashews redis"],
        "runs": [3], "cost_vs_redis_py": [2.9], "cost_vs_redis_py_min": [2.8],
        "cost_vs_redis_py_max": [3.0],
    })  # fmt: skip
    (found,) = headlines("caching", [("Cost of a hit and a miss", cost)])
    assert found.peer == "cashews" and found.text() == "2.9 [2.8-3], 3 runs"
