"""Latency recording on HdrHistogram: percentiles that stay exact to 3 digits and merge.

Values are recorded in microseconds from 1 µs to one hour; summaries are in milliseconds.
Reading is done here over the histogram's counts with numpy: the ``hdrh`` package walks
its 23,552 counts in Python for every percentile and the mean (a summary took 71 ms;
the service experiment reads three percentiles for every second of load). The answers are
the package's own: the same target count, bucket and equivalent value, tested against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
from hdrh.histogram import HdrHistogram

__all__ = ["PERCENTILES", "LatencyRecorder", "LatencySummary"]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

#: The percentiles every summary reports, by the column-name suffix they get.
PERCENTILES: dict[str, float] = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles in milliseconds, plus the count of recorded values."""

    count: int
    p50: float
    p90: float
    p95: float
    p99: float
    p999: float
    max: float
    mean: float

    def as_columns(self, prefix: str = "latency_ms_") -> dict[str, float]:
        """The summary as flat DataFrame columns: ``latency_ms_p50`` and so on."""
        columns: dict[str, float] = {f"{prefix}{name}": getattr(self, name) for name in PERCENTILES}
        columns[f"{prefix}max"] = self.max
        columns[f"{prefix}mean"] = self.mean
        return columns


class LatencyRecorder:
    """An HdrHistogram of latencies. One per task is cheap; merge them at the end."""

    def __init__(self) -> None:
        self._histogram = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)

    @property
    def count(self) -> int:
        return int(self._histogram.get_total_count())

    def record_ns(self, nanoseconds: int) -> None:
        """Record one latency given in nanoseconds (as from ``time.perf_counter_ns``)."""
        micros = nanoseconds // 1000
        self._histogram.record_value(min(max(micros, LOWEST_US), HIGHEST_US))

    def record_seconds(self, seconds: float) -> None:
        self.record_ns(int(seconds * 1e9))

    def merge(self, other: LatencyRecorder) -> None:
        """Add every value of ``other`` to this recorder (exact, as HdrHistogram adds)."""
        self._histogram.add(other._histogram)

    @classmethod
    def merged(cls, recorders: Iterable[LatencyRecorder]) -> LatencyRecorder:
        total = cls()
        for recorder in recorders:
            total.merge(recorder)
        return total

    def _counts(self) -> np.ndarray:
        """The counts per bucket, a view of the histogram's own array (no copy)."""
        return np.ctypeslib.as_array(self._histogram.counts)

    def percentile_ms(self, percentile: float) -> float:
        return self._percentiles_us([percentile], np.cumsum(self._counts()))[0] / 1000.0

    def _percentiles_us(self, percentiles: list[float], cumulative: np.ndarray) -> list[int]:
        """HdrHistogram's value at each percentile: the first bucket whose running count
        reaches the target count, read as its highest equivalent value (lowest for 0)."""
        total = self._histogram.get_total_count()
        if total == 0:
            return [0 for _ in percentiles]
        lowest, highest = _bucket_values(*_layout(self._histogram))
        found = []
        for percentile in percentiles:
            target = self._histogram.get_target_count_at_percentile(percentile)
            index = int(np.searchsorted(cumulative, target, side="left"))
            found.append(int(highest[index] if percentile else lowest[index]))
        return found

    def count_at_or_above_ms(self, milliseconds: float) -> int:
        """How many recorded values are at least ``milliseconds`` (to 3 digits)."""
        threshold = self._histogram.get_lowest_equivalent_value(int(milliseconds * 1000))
        _, highest = _bucket_values(*_layout(self._histogram))
        first = int(np.searchsorted(highest, threshold, side="left"))
        return int(self._counts()[first:].sum())

    def _mean_us(self, counts: np.ndarray) -> float:
        """HdrHistogram's mean: each bucket's count times its middle value."""
        lowest, highest = _bucket_values(*_layout(self._histogram))
        used = np.flatnonzero(counts)
        middle = lowest[used] + (highest[used] - lowest[used] + 1) // 2
        total = sum(int(c) * int(m) for c, m in zip(counts[used], middle, strict=True))
        return total / float(self._histogram.get_total_count())

    def summary(self) -> LatencySummary:
        if self.count == 0:
            nan = float("nan")
            return LatencySummary(0, nan, nan, nan, nan, nan, nan, nan)
        counts = self._counts()
        values = self._percentiles_us(list(PERCENTILES.values()), np.cumsum(counts))
        return LatencySummary(
            count=self.count,
            max=float(self._histogram.get_max_value()) / 1000.0,
            mean=self._mean_us(counts) / 1000.0,
            **{name: value / 1000.0 for name, value in zip(PERCENTILES, values, strict=True)},
        )

    def encode(self) -> str:
        """The histogram in HdrHistogram's compressed base64 form, for JSON files."""
        encoded = self._histogram.encode()
        return encoded.decode("ascii") if isinstance(encoded, bytes) else str(encoded)

    @classmethod
    def decode(cls, encoded: str) -> LatencyRecorder:
        recorder = cls()
        recorder._histogram = HdrHistogram.decode(encoded)
        return recorder


def _layout(histogram: HdrHistogram) -> tuple[int, int, int]:
    return (histogram.counts_len, histogram.unit_magnitude,
            histogram.sub_bucket_half_count_magnitude)  # fmt: skip


@cache
def _bucket_values(counts_len: int, unit_magnitude: int, half_magnitude: int
                   ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The lowest and highest value each count of a histogram of this layout stands for
    (HdrHistogram's ``get_value_from_index`` and the end of its equivalent range)."""
    index = np.arange(counts_len, dtype=np.int64)
    half = 1 << half_magnitude
    bucket = (index >> half_magnitude) - 1
    sub_bucket = (index & (half - 1)) + half
    first = bucket < 0
    sub_bucket[first] -= half
    bucket[first] = 0
    lowest = sub_bucket << (bucket + unit_magnitude)
    return lowest, lowest + (np.int64(1) << (bucket + unit_magnitude)) - 1
