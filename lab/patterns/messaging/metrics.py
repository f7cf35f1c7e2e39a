"""Prometheus view of some processors: ``registry.register(ProcessorCollector([p]))``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from lab.patterns.messaging.processor import KafkaBatchProcessor

__all__ = ["ProcessorCollector"]

_EVENTS = (
    "consumed",
    "handled",
    "retried",
    "dead_lettered",
    "undecodable",
    "commits",
    "commit_failures",
    "rebalances",
    "paused",
)


class ProcessorCollector(Collector):
    """Counts, handling and commit latency, and lag per partition, read when scraped."""

    def __init__(self, processors: Sequence[KafkaBatchProcessor]) -> None:
        self._processors = list(processors)

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        events = CounterMetricFamily(
            "lab_kafka_processor_events", "Messages and commits", labels=["group", "event"]
        )
        handle = HistogramMetricFamily(
            "lab_kafka_handle_seconds", "Decode to handled", labels=["group"]
        )
        commit = HistogramMetricFamily(
            "lab_kafka_commit_seconds", "One offset commit", labels=["group"]
        )
        lag = GaugeMetricFamily(
            "lab_kafka_lag",
            "High watermark minus committed offset",
            labels=["group", "topic", "partition"],
        )
        for processor in self._processors:
            group, stats = processor.group_id, processor.stats
            for event in _EVENTS:
                events.add_metric([group, event], getattr(stats, event))
            handle.add_metric(
                [group], stats.handle_seconds.cumulative(), stats.handle_seconds.total_s
            )
            commit.add_metric(
                [group], stats.commit_seconds.cumulative(), stats.commit_seconds.total_s
            )
            for (topic, partition), behind in processor.lag().items():
                lag.add_metric([group, topic, str(partition)], behind)
        yield from (events, handle, commit, lag)
