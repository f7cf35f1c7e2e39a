"""The virtual-time capacity model: deterministic, and protecting or not as it should."""

from __future__ import annotations

import math

import pytest

from lab.experiments.load_control.measure import variants
from lab.experiments.load_control.simulation import SCENARIOS, SimSettings, simulate

SMALL = SimSettings(capacity=10, service_s=0.1, before_s=2.0, after_s=6.0)


def test_a_run_is_the_same_every_time() -> None:
    make = variants(SMALL.capacity, SMALL.service_s)["vegas"]
    first = simulate(SCENARIOS["step"], make, SMALL, seed=3)
    again = simulate(SCENARIOS["step"], make, SMALL, seed=3)
    assert first == again
    other = simulate(SCENARIOS["step"], make, SMALL, seed=4)
    assert other[0]["requests"] != first[0]["requests"]  # the seed draws the arrivals


def test_without_a_limiter_the_overload_times_out() -> None:
    summary, timeline = simulate(SCENARIOS["step"], lambda clock: None, SMALL, seed=1)
    assert summary["rejected_share"] == 0
    assert summary["timed_out_share"] > 0.5  # 2x the capacity, queued without bound
    assert math.isnan(summary["limit_steady"])
    assert len(timeline) == 16  # 8 s in 0.5 s bins


@pytest.mark.parametrize("variant", ["fixed(C)", "vegas", "gradient2", "latency-target"])
def test_a_limiter_sheds_instead_of_timing_out(variant: str) -> None:
    make = variants(SMALL.capacity, SMALL.service_s)[variant]
    summary, timeline = simulate(SCENARIOS["step"], make, SMALL, seed=1)
    assert summary["timed_out_share"] == 0
    assert 0.3 < summary["rejected_share"] < 0.7  # about half of a 2x overload
    assert summary["goodput_rps"] > 0
    assert all(point["limit"] >= 1 for point in timeline)


def test_the_drop_halves_the_capacity_and_fixed_c_stays_put() -> None:
    make = variants(SMALL.capacity, SMALL.service_s)["fixed(C)"]
    summary, timeline = simulate(SCENARIOS["drop"], make, SMALL, seed=1)
    assert summary["capacity"] == 5
    assert summary["limit_steady"] == 10
    assert summary["steady_error"] == pytest.approx(1.0)
    assert {point["capacity"] for point in timeline} == {10, 5}
