"""The messaging experiment, small: behaviour (counts), never speed."""

from __future__ import annotations

import pandas as pd
import pytest

from lab.experiments import EXPERIMENTS
from lab.experiments.messaging import tables
from tests.experiment_frames import SessionFrames


@pytest.fixture(scope="module")
def frame(kafka_up: None, frames: SessionFrames) -> pd.DataFrame:
    return frames("messaging")


def test_end_to_end_counts_every_message_once(frame: pd.DataFrame) -> None:
    row = tables.end_to_end_summary(frame).iloc[0]
    assert row.handled == row.expected_handled > 0
    assert row.dead_lettered == row.expected_dead_lettered
    assert row.duplicates == 0  # nothing crashed
    assert row.undecodable > 0 and row.retried > 0  # the poison and failing shares were drawn


def test_each_python_rate_sits_beside_the_java_tool(frame: pd.DataFrame) -> None:
    produce = tables.produce_summary(frame)
    assert set(produce.tool) == {"aiokafka", "java"}
    assert (produce[produce.tool == "java"].vs_java == 1.0).all()
    consume = tables.consume_summary(frame)
    assert consume.tool.iloc[0].startswith("ConsumerPerformance")
    assert (consume.msgs_s > 0).all()
    assert set(consume.tool[1:]) == {"aiokafka getmany, max_records=500",
                                     "aiokafka getmany, max_records=5000",
                                     "KafkaBatchProcessor, concurrency 32",
                                     "KafkaBatchProcessor, batch handler",
                                     "KafkaBatchProcessor, partition order"}  # fmt: skip
    stages = tables.consume_stages(frame)  # the quick run measures the floor the stages need
    assert stages.stage.iloc[0].endswith("(the floor)") and len(stages) == 5
    assert (stages.added_us.iloc[0] == 0) and stages.added_us.iloc[1:].notna().all()


def test_scale_out_and_the_channels(frame: pd.DataFrame) -> None:
    scale = tables.scale_summary(frame)
    assert list(scale.workers) == [1, 4] and (scale.msgs_s > 0).all()
    assert len(tables.targets(frame)) == 3  # no crash part in this run
    experiment = EXPERIMENTS["messaging"]
    assert len(experiment.figures(frame)) == 3
    assert len(tables.lag_timeline(frame)) > 0
