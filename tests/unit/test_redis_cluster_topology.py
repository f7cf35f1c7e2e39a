"""Reading a Redis Cluster's topology from CLUSTER NODES, and judging it whole."""

from __future__ import annotations

import pytest

from lab.errors import ConfigError
from lab.harness.services.redis_cluster import (
    CLUSTER_ENV,
    cluster_nodes,
    parse_cluster_nodes,
    topology_problem,
)

WHOLE = """\
a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
a2 127.0.0.1:7002@17002 master - 0 1700000000000 2 connected 5461-10922
a3 127.0.0.1:7003@17003 master - 0 1700000000000 3 connected 10923-16383
r1 127.0.0.1:7004@17004 slave a2 0 1700000000000 2 connected
r2 127.0.0.1:7005@17005 slave a3 0 1700000000000 3 connected
r3 127.0.0.1:7006@17006 slave a1 0 1700000000000 1 connected
"""


def test_a_whole_cluster_parses_and_has_no_problem() -> None:
    nodes = parse_cluster_nodes(WHOLE)
    assert [n.address for n in nodes][:2] == ["127.0.0.1:7001", "127.0.0.1:7002"]
    assert [n.slots for n in nodes] == [5461, 5462, 5461, 0, 0, 0]
    assert [n.role for n in nodes] == ["master"] * 3 + ["replica"] * 3
    assert nodes[3].master_id == "a2" and nodes[0].master_id is None
    assert topology_problem(nodes, masters=3, replicas=1) is None


def test_a_failed_master_leaves_its_slots_uncovered() -> None:
    text = WHOLE.replace("7001@17001 myself,master", "7001@17001 master,fail")
    assert topology_problem(parse_cluster_nodes(text), 3, 1) == (
        "5461 hash slots have no live master"
    )


def test_a_promoted_replica_without_a_replica_of_its_own_is_not_whole() -> None:
    promoted = WHOLE.replace(
        "a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460",
        "a1 127.0.0.1:7001@17001 master,fail - 0 0 1 disconnected",
    ).replace("r3 127.0.0.1:7006@17006 slave a1 0 1700000000000 1 connected",
              "r3 127.0.0.1:7006@17006 master - 0 1700000000000 4 connected 0-5460")  # fmt: skip
    nodes = parse_cluster_nodes(promoted)
    assert topology_problem(nodes, 3, 0) is None
    assert topology_problem(nodes, 3, 1) == "master 127.0.0.1:7006 has 0 live replicas, not 1"


def test_slots_being_migrated_are_not_counted_twice() -> None:
    text = WHOLE.replace("connected 0-5460", "connected 0-5460 [5461->-a2]")
    assert parse_cluster_nodes(text)[0].slots == 5461


def test_a_line_that_is_not_a_node_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a CLUSTER NODES line"):
        parse_cluster_nodes("ERR This instance has cluster support disabled")


def test_the_nodes_come_from_the_environment_or_the_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(CLUSTER_ENV, raising=False)
    assert cluster_nodes() == [f"127.0.0.1:{port}" for port in range(7001, 7007)]
    monkeypatch.setenv(CLUSTER_ENV, "10.0.0.1:6379, 10.0.0.2:6379")
    assert cluster_nodes() == ["10.0.0.1:6379", "10.0.0.2:6379"]
    monkeypatch.setenv(CLUSTER_ENV, "10.0.0.1")
    with pytest.raises(ConfigError, match="is not host:port"):
        cluster_nodes()
