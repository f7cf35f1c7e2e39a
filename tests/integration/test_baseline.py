"""The baseline experiment against the real servers, with tiny settings."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lab.experiments.baseline import measure, tables
from tests.experiment_frames import SessionFrames, trimmed_settings


@pytest.fixture(scope="module")
def frame(all_up: None, frames: SessionFrames) -> pd.DataFrame:
    return frames("baseline")


def test_every_cell_has_a_python_measurement(frame: pd.DataFrame) -> None:
    python = frame[frame.client == "python"]
    cells = {(row.service, row.operation) for row in python.itertuples()}
    expected = {(s, op) for s, ops in measure.OPERATIONS.items() for op in ops}
    assert cells == expected
    assert (python.ops > 0).all()
    assert (python.latency_ms_p50 <= python.latency_ms_p99).all()
    assert (python.latency_ms_p99 <= python.latency_ms_max).all()


def test_native_tools_ran_beside_python(frame: pd.DataFrame) -> None:
    tools = set(frame[frame.client == "native"].tool)
    assert tools == {"redis-benchmark", "pgbench", "kafka ProducerPerformance"}


def test_ratios_are_finite_where_a_native_tool_exists(frame: pd.DataFrame) -> None:
    table = tables.ratios(frame)
    compared = table[table.native_tool != "(none)"]
    concurrencies = trimmed_settings("baseline").concurrencies
    assert len(compared) == 5 * len(concurrencies)  # five cells have a native tool
    assert all(math.isfinite(r) and r > 0 for r in compared.ratio)


def test_postgres_connections_are_measured(frame: pd.DataFrame) -> None:
    assert 0 < tables.slo_metrics(frame)["db_connections_percent"] < 100


async def test_kafka_roundtrip_waits_for_its_own_message(kafka_up: None) -> None:
    async with measure.session("kafka", 4) as opened:
        assert isinstance(opened, measure.KafkaSession)
        await measure.run_batch(opened.ops["roundtrip"], 40, 4)
        assert opened.waiting == {}  # every message produced was consumed
