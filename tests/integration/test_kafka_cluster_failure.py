"""The replicated Kafka profile (3 KRaft nodes, replication factor 3, min ISR 2) and the
messaging experiment's broker-failure part on it: the leader of a partition SIGKILLed while
an idempotent acks=all producer writes and a KafkaBatchProcessor group reads; nothing
acknowledged is lost, and the broker comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.experiments.messaging.broker_failure import broker_failure
from lab.experiments.messaging.measure import quick_settings
from lab.harness.services import down, status, up
from lab.harness.services.kafka_cluster import (
    CLUSTER_BOOTSTRAP_ENV,
    cluster_bootstrap,
    kafka_cluster_health,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, kafka_up: None) -> Iterator[str]:
    """The profile as `lab services up --kafka-brokers 3` starts it, in a scratch home."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_HOME", str(tmp_path_factory.mktemp("lab-home")))
        patch.delenv(CLUSTER_BOOTSTRAP_ENV, raising=False)
        up(["kafka-cluster"])
        try:
            yield cluster_bootstrap()
        finally:
            assert down(["kafka-cluster"]) == ["kafka-cluster"]


@pytest.mark.kafka_cluster  # `make test-clusters`: three more JVMs
def test_the_profile_has_three_brokers(cluster: str) -> None:
    (row,) = status(["kafka-cluster"])
    assert row.health.healthy, row.health.detail
    assert row.started_by == "lab/native"
    assert row.health.detail.startswith("3 brokers")


@pytest.mark.kafka_cluster
def test_nothing_acknowledged_is_lost_when_a_leader_is_killed(cluster: str) -> None:
    settings = quick_settings(failure_messages=3_000, failure_rate=1_000.0,
                              failure_kill_at_s=1.0, failure_down_s=2.0,
                              failure_acks=("all",))  # fmt: skip
    (row,) = asyncio.run(broker_failure(settings, 0))
    assert row["acks"] == "all" and row["killed_broker"] in (1, 2, 3)
    assert row["acknowledged"] + row["send_failed"] == 3_000  # every send has an outcome
    assert row["acknowledged"] > 0
    assert row["lost"] == 0
    assert kafka_cluster_health(cluster).healthy  # the killed broker is back


def test_without_the_cluster_the_part_says_how_to_start_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CLUSTER_BOOTSTRAP_ENV, "127.0.0.1:1")
    (row,) = asyncio.run(broker_failure(quick_settings(), 0))
    assert row["acks"] == "not run" and "--kafka-brokers 3" in row["detail"]
    monkeypatch.delenv(CLUSTER_BOOTSTRAP_ENV)
    monkeypatch.setattr("lab.experiments.messaging.broker_failure.cluster_bootstrap",
                        lambda: "127.0.0.1:1")  # fmt: skip
    (row,) = asyncio.run(broker_failure(quick_settings(), 0))
    assert "is not up" in row["detail"] and "--kafka-brokers 3" in row["detail"]
