"""Latency recording on HdrHistogram: percentiles that stay exact to 3 digits and merge.

Values are recorded in microseconds from 1 µs to one hour; summaries are in milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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

    def percentile_ms(self, percentile: float) -> float:
        return float(self._histogram.get_value_at_percentile(percentile)) / 1000.0

    def count_at_or_above_ms(self, milliseconds: float) -> int:
        """How many recorded values are at least ``milliseconds`` (to 3 digits)."""
        threshold = self._histogram.get_lowest_equivalent_value(int(milliseconds * 1000))
        return sum(
            item.count_at_value_iterated_to
            for item in self._histogram.get_recorded_iterator()
            if item.value_iterated_to >= threshold
        )

    def summary(self) -> LatencySummary:
        if self.count == 0:
            nan = float("nan")
            return LatencySummary(0, nan, nan, nan, nan, nan, nan, nan)
        values = {name: self.percentile_ms(p) for name, p in PERCENTILES.items()}
        return LatencySummary(
            count=self.count,
            max=float(self._histogram.get_max_value()) / 1000.0,
            mean=float(self._histogram.get_mean_value()) / 1000.0,
            **values,
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
