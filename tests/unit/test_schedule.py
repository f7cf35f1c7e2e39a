from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.errors import ConfigError
from lab.harness.loadgen.schedule import (
    Schedule,
    Stage,
    parse_duration,
    parse_segment,
    parse_stages,
)


@given(st.integers(1, 5000), st.integers(1, 30))
def test_constant_rate_schedules_exactly_rate_times_duration(rate: int, seconds: int) -> None:
    schedule = Schedule.constant(rate, seconds)
    offsets = list(schedule.offsets_ns())
    assert len(offsets) == rate * seconds == schedule.count()
    assert offsets[0] == 0
    assert all(a <= b for a, b in pairwise(offsets))
    assert offsets[-1] < seconds * 1_000_000_000


def test_constant_rate_spacing_is_even() -> None:
    offsets = list(Schedule.constant(4, 1).offsets_ns())
    assert offsets == [0, 250_000_000, 500_000_000, 750_000_000]


def test_a_fractional_total_rounds_up_to_sends_inside_the_run() -> None:
    assert Schedule((Stage(2.5, 1.0),), start_rps=1.0).count() == 3  # at 0, 1 and 2 s


def test_ramps_follow_the_area_under_the_rate_curve() -> None:
    schedule = Schedule(tuple(parse_stages("10s:100,30s:1000,10s:0")))
    assert schedule.expected_arrivals() == 22_000
    offsets = list(schedule.offsets_ns())
    assert len(offsets) == 22_000
    # Ramping 0 -> 100 rps over 10 s, N(t) = 5 t^2: the 2nd request is due at sqrt(1/5) s.
    assert offsets[1] == pytest.approx(447_213_595, abs=1)
    in_first_stage = sum(1 for o in offsets if o < 10_000_000_000)
    assert in_first_stage == 500
    assert all(a <= b for a, b in pairwise(offsets))


def test_a_zero_rate_stage_schedules_nothing() -> None:
    assert Schedule(tuple(parse_stages("5s:0"))).count() == 0


def test_a_stage_of_no_time_is_skipped_and_the_next_starts_from_its_rate() -> None:
    schedule = Schedule((Stage(1.0, 10.0), Stage(0.0, 1000.0), Stage(1.0, 1000.0)),
                        start_rps=10.0)  # fmt: skip
    assert schedule.count() == 10 + 1000
    assert schedule.duration_s == 2.0


@pytest.mark.parametrize(
    ("text", "seconds"), [("500ms", 0.5), ("10s", 10.0), ("2m", 120.0), ("1.5", 1.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1s", "ten", "5 parsecs"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["10s-100", "10s:fast", "10s:-5", "0s:100", ":100", "10s:nan"])
def test_bad_stages(text: str) -> None:
    with pytest.raises(ConfigError, match="stage"):
        parse_stages(text)


@pytest.mark.parametrize(("rate", "duration"), [(0, 1), (-5, 1), (10, 0), (10, -1)])
def test_bad_constant_schedules(rate: float, duration: float) -> None:
    with pytest.raises(ConfigError, match="greater than zero"):
        Schedule.constant(rate, duration)


_STAGES = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 400)), min_size=1, max_size=3)


@given(_STAGES, st.integers(0, 400), st.integers(1, 7), st.integers(1, 3))
def test_segments_partition_the_schedule_exactly(
    stages: list[tuple[int, int]], start: int, count: int, nested: int
) -> None:
    """N segments (each split again into ``nested`` workers) hold exactly the whole
    schedule's send times, each once."""
    whole = Schedule(tuple(Stage(d, r) for d, r in stages), start_rps=start)
    parts = [whole.share(i, count).share(j, nested) for i in range(count) for j in range(nested)]
    together = sorted(offset for part in parts for offset in part.offsets_ns())
    assert together == list(whole.offsets_ns())
    assert sum(part.count() for part in parts) == whole.count()


@pytest.mark.parametrize("text", ["0/3", "4/3", "1-3", "a/b", "3"])
def test_bad_segments(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_segment(text)
