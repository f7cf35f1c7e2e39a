"""Headline figures are picked from report tables with their spread and repeats."""

from __future__ import annotations

import pandas as pd

from lab.experiments import EXPERIMENTS
from lab.report.headlines import NOT_RUN, headlines


def stampede(origin_calls: list[float]) -> list[tuple[str, pd.DataFrame]]:
    table = pd.DataFrame({
        "mode": ["single-flight", "none"], "callers": [1000, 1000],
        "origin_calls": origin_calls, "origin_calls_min": [1.0, 832.0],
        "origin_calls_max": [1.0, 1000.0], "runs": [3, 3],
    })  # fmt: skip
    return [("Origin calls per expiry, both waves together", table)]


def test_headlines_carry_the_median_spread_and_repeats() -> None:
    found = {h.label: h for h in headlines("caching", stampede([1.0, 1000.0]))}
    unprotected = found["origin calls, 1000 callers at one expiry, unprotected"]
    assert unprotected.text() == "1,000 [832-1,000], 3 runs"
    assert found["origin calls, 1000 callers at one expiry, single-flight"].cell.value == 1


def test_a_headline_whose_case_was_left_out_says_so_never_nan() -> None:
    found = {h.label: h for h in headlines("caching", stampede([1.0, 1000.0]))}
    hit_ratio = found["LRU hit ratio, 10 % of keys, Zipf 1.0"]
    assert hit_ratio.text() == NOT_RUN and "nan" not in hit_ratio.text()
    assert len(found) == len(EXPERIMENTS["caching"].headlines)


def test_an_experiment_that_did_not_run_has_no_headlines() -> None:
    assert headlines("caching", stampede([1.0, 1000.0])[:0]) == []
    assert headlines("no such experiment", stampede([1.0, 1000.0])) == []


def test_a_figure_stated_without_spread_says_so() -> None:
    outage = pd.DataFrame({"variant": ["consecutive(5)"], "runs": [2],
                           "reached_during_fault": [7.5], "reached_max": [8.0],
                           "time_to_open_s": [0.055]})  # fmt: skip
    found = {h.label: h for h in headlines("resilience", [("Outage: 500s", outage)])}
    assert found["seconds to open, consecutive(5)"].text() == "0.055, 2 runs"


def test_a_peer_is_compared_as_a_ratio_whose_range_divides_the_extremes() -> None:
    cost = pd.DataFrame({
        "workload": ["hit", "hit"], "concurrency": [50, 50],
        "variant": ["cashews redis", "lab redis"], "runs": [3, 3],
        "cost_vs_redis_py": [2.9, 1.16], "cost_vs_redis_py_min": [2.8, 1.12],
        "cost_vs_redis_py_max": [3.0, 1.2],
    })  # fmt: skip
    peers = {h.peer: h for h in headlines("caching", [("Cost of a hit and a miss", cost)])}
    found = peers["cashews"]
    assert (found.cell.value, found.cell.low, found.cell.high) == (2.5, 2.8 / 1.2, 3.0 / 1.12)
    assert found.text() == "2.5 [2.33-2.68], 3 runs"
    without_ours = cost[cost.variant != "lab redis"]
    against = [h for h in headlines("caching", [("Cost of a hit", without_ours)])
               if h.peer in ("cashews", "aiocache")]  # fmt: skip
    assert [h.text() for h in against] == [NOT_RUN, NOT_RUN]  # no ratio without ours


def test_an_empty_cell_says_what_it_means_never_nan() -> None:
    convergence = pd.DataFrame({"scenario": ["step"], "variant": ["gradient2"], "runs": [2],
                                "settle_s": [float("nan")], "settle_s_min": [float("nan")],
                                "settle_s_max": [float("nan")]})  # fmt: skip
    found = {h.label: h for h in headlines("load_control", [("Convergence", convergence)])}
    text = found["gradient2: seconds to settle after a capacity step"].text()
    assert text == "did not settle before the run ended, 2 runs"
    assert "nan" not in text


def test_a_search_that_found_no_rate_says_so_instead_of_zero() -> None:
    search = pd.DataFrame({"variant": ["optimized", "naive"], "runs": [2, 2],
                           "max_rate_meeting_slo": [825.0, 0.0],
                           "max_rate_meeting_slo_min": [825.0, 0.0],
                           "max_rate_meeting_slo_max": [1187.5, 0.0]})  # fmt: skip
    found = {h.label: h for h in headlines("service", [("Largest constant rate", search)])}
    naive = found["largest rate meeting the SLO, naive (requests/s)"].text()
    assert naive == "none: it failed a line at the lowest rate probed, 2 runs"
    optimized = found["largest rate meeting the SLO, optimized (requests/s)"].text()
    assert optimized == "825 [825-1,188], 2 runs"
    one_of_two = search.assign(max_rate_meeting_slo_max=[1187.5, 100.0])
    found = {h.label: h for h in headlines("service", [("Largest constant rate", one_of_two)])}
    assert found["largest rate meeting the SLO, naive (requests/s)"].text() == "0 [0-100], 2 runs"
