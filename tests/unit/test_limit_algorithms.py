"""Each limit algorithm's update rule against values computed by hand."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.errors import ConfigError
from lab.patterns.limit_algorithms import (
    AIMD,
    Gradient2,
    LatencyTarget,
    Sample,
    Vegas,
    log10_step,
)
from lab.patterns.limiter import AdaptiveLimiter, Permit


def test_aimd_adds_one_while_used_and_backs_off_on_a_drop() -> None:
    aimd = AIMD(10, backoff=0.9, timeout_s=1.0)
    assert aimd.update(Sample(0.1, in_flight=5)) == 11  # 5 * 2 >= 10: in use
    assert aimd.update(Sample(0.1, in_flight=4)) == 11  # 8 < 11: idle, unchanged
    assert aimd.update(Sample(0.1, in_flight=11, dropped=True)) == 9  # int(11 * 0.9)
    assert aimd.update(Sample(2.0, in_flight=9)) == 8  # slower than the timeout: a drop
    small = AIMD(5, backoff=0.9)
    assert small.update(Sample(0.1, 5, dropped=True)) == 4  # at least one less


@pytest.mark.parametrize(("limit", "step"), [(1, 1), (9, 1), (20, 1), (99, 1), (100, 2),
                                             (999, 2), (1000, 3)])  # fmt: skip
def test_vegas_thresholds_come_from_log10_of_the_limit(limit: int, step: int) -> None:
    assert log10_step(limit) == step


def test_vegas_grows_fast_without_a_queue_and_shrinks_beyond_beta() -> None:
    vegas = Vegas(20, probe_multiplier=10_000)
    assert vegas.update(Sample(0.100, 20)) == 20  # first sample: the no-load RTT
    assert vegas.rtt_noload_s == 0.100
    assert vegas.update(Sample(0.100, 20)) == 26  # queue 0 <= threshold 1: + beta (6)
    assert vegas.update(Sample(0.200, 26)) == 25  # queue ceil(26 * 0.5) = 13 > beta: - 1
    assert vegas.update(Sample(0.1 / 0.92, 25)) == 26  # queue ceil(25 * 0.08) = 2 < alpha 3
    assert vegas.update(Sample(0.125, 26)) == 26  # queue ceil(26 * 0.2) = 6: between, kept
    assert vegas.update(Sample(0.100, 5)) == 26  # 5 * 2 < 26: app-limited, kept


def test_vegas_steps_by_two_from_a_limit_of_100() -> None:
    vegas = Vegas(150, probe_multiplier=10_000)
    vegas.update(Sample(0.1, 150))
    assert vegas.update(Sample(0.1, 150)) == 162  # + 6 * 2
    assert vegas.update(Sample(0.1, 150, dropped=True)) == 160  # a drop: - 2


def test_vegas_probes_the_no_load_rtt_again() -> None:
    vegas = Vegas(2, min_limit=1, max_limit=2, probe_multiplier=1, rng=random.Random(1))
    vegas.update(Sample(0.1, 2))
    for _ in range(5):
        vegas.update(Sample(0.3, 2))
    assert vegas.probes >= 1
    assert vegas.rtt_noload_s == pytest.approx(0.3)  # the server got slower for good


def test_gradient2_blends_the_gradient_with_its_smoothing() -> None:
    g = Gradient2(20, min_limit=1, smoothing=0.2, queue_size=4)
    # long RTT 0.1 (warm-up mean), gradient 1: 20 * 1 + 4 = 24; 20 * 0.8 + 24 * 0.2
    assert g.update(Sample(0.1, 20)) == pytest.approx(20.8)
    # long RTT mean(0.1, 0.2) = 0.15, gradient 0.75: 20.8 * 0.75 + 4 = 19.6
    assert g.update(Sample(0.2, 20)) == pytest.approx(20.8 * 0.8 + 19.6 * 0.2)
    assert g.update(Sample(0.2, 5)) == pytest.approx(20.56)  # app-limited: kept


def test_gradient2_gradient_stays_within_half_and_one() -> None:
    g = Gradient2(100, min_limit=1, max_limit=1000, smoothing=1.0, queue_size=0)
    g.update(Sample(0.1, 100))
    g.update(Sample(0.1, 100))
    assert g.limit == pytest.approx(100.0)  # gradient 1 (long == short), nothing added
    # long RTT mean(0.1, 0.1, 10) = 3.4; 3.4 / 10 = 0.34, held at 0.5
    assert g.update(Sample(10.0, 100)) == pytest.approx(50.0)


def test_gradient2_cuts_a_stale_long_rtt() -> None:
    g = Gradient2(20, min_limit=1, long_window=600)
    for _ in range(10):
        g.update(Sample(1.0, 20))  # warm-up: long RTT 1.0
    g.update(Sample(0.4, 20))
    factor = 2 / 601
    assert g.long_rtt_s == pytest.approx((1.0 * (1 - factor) + 0.4 * factor) * 0.9)


def test_latency_target_moves_by_at_least_one() -> None:
    rule = LatencyTarget(0.100, initial=5)
    # The seed: 5 * 1.1 = 5.5, which admits no one more. Here: 6.
    assert rule.update(Sample(0.050, 5, p95_s=0.070)) == 6
    rule = LatencyTarget(0.100, initial=10)
    assert rule.update(Sample(0.050, 6, p95_s=0.070)) == 11
    assert rule.update(Sample(0.090, 11, p95_s=0.200)) == 8  # p95 > 1.5 x target: * 0.8
    assert rule.update(Sample(0.090, 8, p95_s=0.140)) == 8  # in between: kept
    assert rule.update(Sample(0.050, 3, p95_s=0.070)) == 8  # 3 * 2 < 8: not in use, kept
    tiny = LatencyTarget(0.100, initial=3)
    assert tiny.update(Sample(0.3, 3, p95_s=0.3)) == 2  # floor(2.4), and at least one less


@pytest.mark.parametrize("make", [
    lambda: AIMD(5, min_limit=2, max_limit=40),
    lambda: Vegas(5, min_limit=2, max_limit=40, probe_multiplier=3),
    lambda: Gradient2(5, min_limit=2, max_limit=40),
    lambda: LatencyTarget(0.05, initial=5, min_limit=2, max_limit=40),
])  # fmt: skip
@given(samples=st.lists(st.tuples(st.floats(0.001, 5.0), st.integers(0, 100), st.booleans()),
                        max_size=200))  # fmt: skip
def test_the_limiter_keeps_an_integer_within_bounds(
    make: object, samples: list[tuple[float, int, bool]]
) -> None:
    now = 100.0
    limiter = AdaptiveLimiter(make(), window_s=0, clock=lambda: now)  # type: ignore[operator]
    for rtt, in_flight, dropped in samples:
        limiter.in_flight = 1  # one request, admitted earlier, comes back
        limiter.release(Permit(now - rtt, in_flight), dropped=dropped)
        assert isinstance(limiter.limit, int)
        assert 2 <= limiter.limit <= 40
        assert limiter.in_flight == 0


@pytest.mark.parametrize("bad", [
    lambda: AIMD(0), lambda: AIMD(10, min_limit=20), lambda: AIMD(10, backoff=1.0),
    lambda: Vegas(10, smoothing=0), lambda: Gradient2(10, min_limit=1, max_limit=5),
    lambda: LatencyTarget(0), lambda: LatencyTarget(0.1, shrink=1.2),
])  # fmt: skip
def test_bad_settings_are_config_errors(bad: object) -> None:
    with pytest.raises(ConfigError):
        bad()  # type: ignore[operator]
