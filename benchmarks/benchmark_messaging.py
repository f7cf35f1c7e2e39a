"""asv: aiokafka against Kafka's own perf tools, and the batch processor's behaviour.
Thin wrappers over ``lab.experiments.messaging``; skipped when Kafka is down."""

from __future__ import annotations

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, tracked
from lab.experiments.messaging import tables
from lab.patterns.messaging.offsets import PartitionOffsets


class MessagingBehaviour(ExperimentBehaviour):
    """One quick run: producer and consumer ratios to the Java tools, the end-to-end run."""

    experiment = "messaging"

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        cells = index_rows(tables.produce_summary(frame), ["case", "tool"])
        cells.update(index_rows(tables.consume_summary(frame), ["tool"]))
        cells.update(index_rows(tables.end_to_end_summary(frame), ["scenario"]))
        cells.update(index_rows(tables.scale_summary(frame), ["workers"]))
        return cells

    def track_producer_vs_java(self, cells: Cells) -> float:
        return tracked(cells, ("100 B, 16 KiB batches, linger 5 ms", "aiokafka"), "vs_java")

    track_producer_vs_java.unit = "ratio"  # type: ignore[attr-defined]

    def track_consumer_vs_java(self, cells: Cells) -> float:
        return tracked(cells, ("aiokafka getmany, max_records=5000",), "vs_java")

    track_consumer_vs_java.unit = "ratio"  # type: ignore[attr-defined]

    def track_processor_vs_java(self, cells: Cells) -> float:
        return tracked(cells, ("KafkaBatchProcessor, concurrency 32",), "vs_java")

    track_processor_vs_java.unit = "ratio"  # type: ignore[attr-defined]

    def track_end_to_end_duplicates(self, cells: Cells) -> float:
        return tracked(cells, ("poison, failing and slow",), "duplicates")

    track_end_to_end_duplicates.unit = "messages"  # type: ignore[attr-defined]

    def track_four_workers_vs_one(self, cells: Cells) -> float:
        return tracked(cells, (4,), "vs_one")

    track_four_workers_vs_one.unit = "ratio"  # type: ignore[attr-defined]


class OffsetsCost:
    """The processor's bookkeeping: 10,000 offsets fetched, finished out of order in
    batches of 500, and a commit point asked after each batch."""

    def setup(self) -> None:
        self.order = [base + (i * 7) % 500 for base in range(0, 10_000, 500) for i in range(500)]

    def time_10000_offsets_tracked(self) -> None:
        offsets = PartitionOffsets()
        for offset in range(10_000):
            offsets.fetched(offset)
        for index, offset in enumerate(self.order, start=1):
            offsets.finished(offset)
            if index % 500 == 0:
                offsets.commit_point()
