from __future__ import annotations

from hypothesis import given, settings
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


def _hdrh_answers(recorder: LatencyRecorder, percentiles: list[float], thresholds_ms: list[float]
                  ) -> tuple[list[int], float, list[int]]:  # fmt: skip
    """What the hdrh package itself answers, walking its counts in Python."""
    histogram = recorder._histogram
    at = [histogram.get_value_at_percentile(p) for p in percentiles]
    above = []
    for ms in thresholds_ms:
        threshold = histogram.get_lowest_equivalent_value(int(ms * 1000))
        recorded = histogram.get_recorded_iterator()
        above.append(sum(item.count_at_value_iterated_to for item in recorded
                         if item.value_iterated_to >= threshold))  # fmt: skip
    return at, histogram.get_mean_value(), above


_MICROS = st.one_of(st.integers(0, 3000), st.integers(0, 4 * 3_600_000_000))


@settings(max_examples=25)  # each example walks hdrh's 23,552 counts in Python, ~0.2 s
@given(
    values=st.lists(st.tuples(_MICROS, st.integers(1, 10**6)), min_size=1, max_size=40),
    percentiles=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=4),
    thresholds_ms=st.lists(st.floats(0.0, 5_000_000.0), min_size=1, max_size=3),
    decoded=st.booleans(),
)
def test_reads_answer_what_hdrh_answers(
    values: list[tuple[int, int]], percentiles: list[float], thresholds_ms: list[float],
    decoded: bool,
) -> None:  # fmt: skip
    """Percentiles, the mean and counts above a threshold read with numpy equal the hdrh
    package's own answers: any values (clamped to 1 µs .. 1 h), any counts, any
    percentile and threshold, on a recorder as recorded or decoded from its JSON form."""
    recorder = LatencyRecorder()
    for micros, count in values:
        for _ in range(min(count, 3)):
            recorder.record_ns(micros * 1000)
        recorder._histogram.record_value(min(max(micros, 1), 3_600_000_000), count)
    if decoded:
        recorder = LatencyRecorder.decode(recorder.encode())
    at, mean, above = _hdrh_answers(recorder, percentiles, thresholds_ms)
    assert [recorder.percentile_ms(p) for p in percentiles] == [v / 1000.0 for v in at]
    assert [recorder.count_at_or_above_ms(ms) for ms in thresholds_ms] == above
    assert recorder.summary().mean == mean / 1000.0
