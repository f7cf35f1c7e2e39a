"""pytest-benchmark: what the processor's bookkeeping costs, and the messaging experiment."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.benchmark_messaging import MessagingBehaviour
from lab.experiments.messaging import tables
from lab.patterns.messaging import PartitionOffsets
from tests.bench.asv_tracks import tracked_values


@pytest.mark.benchmark(group="messaging")
def test_10000_offsets_tracked_and_committed(benchmark: Any) -> None:
    def track() -> int | None:
        offsets = PartitionOffsets()
        for offset in range(10_000):
            offsets.fetched(offset)
        for offset in range(10_000):
            offsets.finished(offset)
        return offsets.commit_point()

    assert benchmark(track) == 10_000


def test_messaging_experiment(benchmark: Any, kafka_up: None, quick_frame: Any) -> None:
    frame = quick_frame("messaging")
    benchmark.extra_info["asv"] = tracked_values(MessagingBehaviour, frame)
    targets = tables.targets(frame)
    benchmark.extra_info["targets"] = targets.to_dict("records")
    end_to_end = tables.end_to_end_summary(frame).iloc[0]
    assert end_to_end.handled == end_to_end.expected_handled
    assert end_to_end.dead_lettered == end_to_end.expected_dead_lettered
    assert {"produce", "consume", "end_to_end", "scale_out"} <= set(frame.part)
