"""Counters and latency histograms per cache, and their export to Prometheus.

The hot path only adds to plain integers and a bucket list; Prometheus reads them when
it scrapes, through a collector, so metrics cost nothing between scrapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from lab.patterns.histogram import LATENCY_BUCKETS_S, BucketHistogram

__all__ = ["LATENCY_BUCKETS_S", "BucketHistogram", "CacheCollector", "CacheStats"]


@dataclass
class CacheStats:
    """What one decorated function (or one cache) did; every field only ever grows."""

    name: str
    hits: int = 0
    misses: int = 0
    origin_calls: int = 0
    errors: int = 0  # backend errors survived by failing open
    early_refreshes: int = 0
    lock_waits: int = 0
    lock_timeouts: int = 0
    hit_latency: BucketHistogram = field(default_factory=BucketHistogram)
    miss_latency: BucketHistogram = field(default_factory=BucketHistogram)

    @property
    def hit_ratio(self) -> float:
        looked_up = self.hits + self.misses
        return self.hits / looked_up if looked_up else 0.0

    def counters(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "int"}


class CacheCollector(Collector):
    """Prometheus view of some ``CacheStats``: ``registry.register(CacheCollector(stats))``."""

    def __init__(self, stats: Iterable[CacheStats]) -> None:
        self._stats = list(stats)

    def add(self, stats: CacheStats) -> None:
        self._stats.append(stats)

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        lookups = CounterMetricFamily(
            "lab_cache_lookups", "Cache lookups by result", labels=["cache", "result"]
        )
        events = CounterMetricFamily(
            "lab_cache_events",
            "Origin calls, errors, refreshes, lock waits",
            labels=["cache", "event"],
        )
        latency = HistogramMetricFamily(
            "lab_cache_lookup_seconds",
            "Time a caller waited, by result",
            labels=["cache", "result"],
        )
        for stats in self._stats:
            lookups.add_metric([stats.name, "hit"], stats.hits)
            lookups.add_metric([stats.name, "miss"], stats.misses)
            for event, value in stats.counters().items():
                if event not in ("hits", "misses"):
                    events.add_metric([stats.name, event], value)
            for result, histogram in (("hit", stats.hit_latency), ("miss", stats.miss_latency)):
                latency.add_metric([stats.name, result], histogram.cumulative(), histogram.total_s)
        yield lookups
        yield events
        yield latency
