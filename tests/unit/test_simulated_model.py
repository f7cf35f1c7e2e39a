from __future__ import annotations

import random

import pytest

from lab.errors import ConfigError
from lab.harness.simulate import ServerModel


def test_stall_windows_start_after_a_whole_healthy_period() -> None:
    model = ServerModel(stall_every_s=5.0, stall_for_s=1.0)
    assert model.stall_remaining(0.5) == 0.0
    assert model.stall_remaining(4.99) == 0.0
    assert model.stall_remaining(5.0) == 1.0
    assert model.stall_remaining(5.25) == pytest.approx(0.75)
    assert model.stall_remaining(6.0) == 0.0
    assert model.stall_remaining(10.5) == pytest.approx(0.5)


def test_no_stall_without_a_schedule() -> None:
    assert ServerModel().stall_remaining(100.0) == 0.0


def test_service_time_distributions_keep_their_mean() -> None:
    rng = random.Random(1)
    for distribution in ("exponential", "lognormal"):
        model = ServerModel(service_s=0.02, distribution=distribution)
        draws = [model.draw_service(rng) for _ in range(20_000)]
        assert sum(draws) / len(draws) == pytest.approx(0.02, rel=0.05)
    assert ServerModel(service_s=0.02).draw_service(rng) == 0.02


@pytest.mark.parametrize(
    "kwargs",
    [
        {"distribution": "pareto"},
        {"service_s": -1.0},
        {"error_rate": 1.5},
        {"capacity": -1},
        {"stall_every_s": 1.0, "stall_for_s": 2.0},
    ],
)
def test_bad_models_are_config_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ServerModel(**kwargs)  # type: ignore[arg-type]


def test_outage_and_slowdown_windows() -> None:
    model = ServerModel(outage_start_s=2.0, outage_for_s=3.0, slowdown_start_s=6.0,
                        slowdown_for_s=1.0, slowdown_extra_s=0.5)  # fmt: skip
    assert [model.in_outage(t) for t in (1.9, 2.0, 4.9, 5.0)] == [False, True, True, False]
    assert [model.in_slowdown(t) for t in (5.9, 6.0, 6.9, 7.0)] == [False, True, True, False]
