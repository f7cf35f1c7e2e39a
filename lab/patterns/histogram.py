"""A fixed-bucket latency histogram, kept the way Prometheus keeps one: cheap to observe
on a hot path (one bisect, one add), exported by a collector at scrape time."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

__all__ = ["LATENCY_BUCKETS_S", "BucketHistogram"]

#: Bucket upper bounds in seconds: a memory hit (µs) up to a slow origin (s).
LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.000_005,
    0.000_02,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


@dataclass
class BucketHistogram:
    """Counts per upper bound (the last slot is +Inf), and the sum, as Prometheus keeps them."""

    bounds: tuple[float, ...] = LATENCY_BUCKETS_S
    counts: list[int] = field(default_factory=list)
    total_s: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total_s += seconds

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[tuple[str, int]]:
        running, out = 0, []
        for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out
