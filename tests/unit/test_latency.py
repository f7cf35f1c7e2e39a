from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lab.harness.latency import LatencyRecorder


def test_percentiles_of_known_values_within_three_digits() -> None:
    recorder = LatencyRecorder()
    for ms in range(1, 1001):  # 1 ms .. 1000 ms, one each
        recorder.record_ns(ms * 1_000_000)
    summary = recorder.summary()
    assert summary.count == 1000
    assert abs(summary.p50 - 500) <= 0.5
    assert abs(summary.p99 - 990) <= 1.0
    assert abs(summary.p999 - 999) <= 1.0
    assert abs(summary.max - 1000) <= 1.0


def test_empty_recorder_summarises_to_nan_not_zero() -> None:
    summary = LatencyRecorder().summary()
    assert summary.count == 0
    assert summary.p50 != summary.p50  # NaN


def test_values_outside_range_are_clamped_not_lost() -> None:
    recorder = LatencyRecorder()
    recorder.record_ns(0)
    recorder.record_ns(10**16)
    assert recorder.count == 2


@given(
    st.lists(st.integers(1, 10**9), min_size=1, max_size=50),
    st.lists(st.integers(1, 10**9), min_size=1, max_size=50),
)
def test_merge_equals_recording_everything_in_one(left: list[int], right: list[int]) -> None:
    a, b, both = LatencyRecorder(), LatencyRecorder(), LatencyRecorder()
    for value in left:
        a.record_ns(value)
        both.record_ns(value)
    for value in right:
        b.record_ns(value)
        both.record_ns(value)
    merged = LatencyRecorder.merged([a, b])
    assert merged.count == len(left) + len(right)
    assert merged.summary() == both.summary()


def test_encode_decode_round_trip_keeps_every_value() -> None:
    recorder = LatencyRecorder()
    for us in (150, 2_000, 2_000, 75_000):
        recorder.record_ns(us * 1000)
    copy = LatencyRecorder.decode(recorder.encode())
    assert copy.summary() == recorder.summary()


def test_summary_columns_are_named_with_units() -> None:
    recorder = LatencyRecorder()
    recorder.record_seconds(0.02)
    columns = recorder.summary().as_columns()
    assert set(columns) == {
        "latency_ms_p50", "latency_ms_p90", "latency_ms_p95", "latency_ms_p99",
        "latency_ms_p999", "latency_ms_max", "latency_ms_mean",
    }  # fmt: skip
    assert abs(columns["latency_ms_p50"] - 20.0) < 0.05


def test_count_at_or_above() -> None:
    recorder = LatencyRecorder()
    for ms in (1, 2, 3, 250, 300, 500, 501):
        recorder.record_ns(ms * 1_000_000)
    assert recorder.count_at_or_above_ms(250) == 4
    assert recorder.count_at_or_above_ms(0.5) == 7
    assert recorder.count_at_or_above_ms(600) == 0
