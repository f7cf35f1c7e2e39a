"""The Redis Cluster profile (3 masters, 3 replicas, native) and the caching experiment's
failover part on it: a master SIGKILLed mid-run, its replica promoted, no caller sees an
exception, and the cluster is whole again afterwards."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from lab.experiments.caching import tables
from lab.experiments.caching.failover import failover
from lab.experiments.caching.measure import quick_settings
from lab.harness.services import down, status, up
from lab.harness.services.redis_cluster import CLUSTER_ENV, cluster_nodes, topology
from tests.conftest import LAB


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, redis_up: None) -> Iterator[list[str]]:
    """The profile as `lab services up --redis-cluster` starts it, in a scratch home."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAB_HOME", str(tmp_path_factory.mktemp("lab-home")))
        patch.delenv(CLUSTER_ENV, raising=False)
        started = _lab("services", "up", "--only", "redis", "--redis-cluster")
        assert started.returncode == 0, started.stderr
        try:
            yield cluster_nodes()
        finally:
            stopped = _lab("services", "down", "--only", "prometheus", "--redis-cluster")
            assert "redis-cluster" in stopped.stdout
            assert down(["redis-cluster"]) == []  # reaps the nodes this process restarted


def _lab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"}, check=False)  # fmt: skip


def test_the_profile_is_three_masters_with_a_replica_each(cluster: list[str]) -> None:
    (row,) = status(["redis-cluster"])
    assert row.health.healthy, row.health.detail
    assert row.started_by == "lab/native"
    roles = sorted(node.role for node in topology(cluster))
    assert roles == ["master"] * 3 + ["replica"] * 3


def test_up_again_reuses_the_running_cluster(cluster: list[str]) -> None:
    before = {node.node_id for node in topology(cluster)}
    up(["redis-cluster"])
    assert {node.node_id for node in topology(cluster)} == before


@pytest.fixture(scope="module")
def failover_rows(cluster: list[str]) -> pd.DataFrame:
    settings = quick_settings(failover_rate=100.0, failover_keys=100, failover_before_s=0.5,
                              failover_after_s=0.5, failover_full_coverage=(True,))  # fmt: skip
    return pd.DataFrame(asyncio.run(failover(settings, 0)))


def test_no_caller_sees_an_exception_while_a_master_fails_over(
    failover_rows: pd.DataFrame,
) -> None:
    table = tables.failover_repeats(failover_rows).set_index("variant")
    assert list(table.index) == ["per-key GET", "coalesced MGET"]
    assert (table.caller_exceptions == 0).all()
    assert (table.calls > 0).all()
    assert table.promoted_after_s.notna().all()  # a replica took the master's slots
    assert (table.cache_errors > 0).all()  # the kill was felt, and the callers served


def test_the_killed_master_comes_back_as_a_replica(
    failover_rows: pd.DataFrame, cluster: list[str]
) -> None:
    nodes = topology(cluster)
    assert sorted(node.role for node in nodes) == ["master"] * 3 + ["replica"] * 3
    assert not any(node.failing for node in nodes)
    assert (failover_rows.rejoined_s > failover_rows.promoted_s).all()


def test_without_the_cluster_the_part_says_how_to_start_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_HOME", str(tmp_path))
    monkeypatch.setenv(CLUSTER_ENV, "127.0.0.1:1")
    rows = asyncio.run(failover(quick_settings(), 0))
    assert [row["variant"] for row in rows] == ["not run"]
    assert "lab services up --redis-cluster" in rows[0]["detail"]
    monkeypatch.delenv(CLUSTER_ENV)
    monkeypatch.setattr("lab.experiments.caching.failover.cluster_nodes",
                        lambda: ["127.0.0.1:1"])  # fmt: skip
    (row,) = asyncio.run(failover(quick_settings(), 0))
    assert "not whole" in row["detail"] and "lab services up --redis-cluster" in row["detail"]
