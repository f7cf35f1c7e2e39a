"""The SLO form of ``performance-patterns.ja.md``, read into the lab's targets.

::

    performance_targets:
      response_time: {p50: "< 200ms", p95: "< 500ms", p99: "< 1000ms"}
      throughput: {requests_per_second: "> 1000", concurrent_users: "> 500"}
      resource_utilization: {cpu_usage: "< 70%", memory_usage: "< 80%",
                             database_connections: "< 80%"}

Each value is a comparison and a number with its unit. Latencies take ``ms`` or ``s``
(converted to milliseconds), utilizations ``%``, rates ``rps`` or nothing. A wrong key,
comparison or unit is an error naming its line and the form to write.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

from lab.harness.slo_source import line_error

if TYPE_CHECKING:
    from lab.harness.slo import Target

__all__ = ["DOCUMENT_KEY", "GROUPS", "parse_document_targets"]

DOCUMENT_KEY = "performance_targets"
_LATENCIES = ("p50", "p90", "p95", "p99", "p999", "max")
#: group: {key: (the lab's metric, the units it takes)}
GROUPS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "response_time": {p: (f"latency_{p}_ms", ("ms", "s")) for p in _LATENCIES},
    "throughput": {
        "requests_per_second": ("throughput_rps", ("rps", "")),
        "concurrent_users": ("concurrent_users", ("",)),
    },
    "resource_utilization": {
        "cpu_usage": ("cpu_percent", ("%",)),
        "memory_usage": ("memory_percent", ("%",)),
        "database_connections": ("db_connections_percent", ("%",)),
        "error_rate": ("error_rate_percent", ("%",)),
    },
}
_VALUE = re.compile(r"\s*([<>])\s*(\d+(?:\.\d+)?)\s*(ms|s|%|rps)?\s*")
_TO_MS = {"ms": 1.0, "s": 1000.0}


def _pairs(node: yaml.Node, source: str, what: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise line_error(source, node, f"{what} must be a mapping")
    return list(node.value)


def _target(key: str, node: yaml.Node, metric: str, units: tuple[str, ...], source: str
            ) -> Target:  # fmt: skip
    from lab.harness.slo import Target

    written = " or ".join(f'"< 200{unit}"' if unit else '"> 1000"' for unit in units)
    found = _VALUE.fullmatch(str(node.value)) if isinstance(node, yaml.ScalarNode) else None
    if found is None or (found.group(3) or "") not in units:
        raise line_error(source, node, f"{key}: {node.value!r} is not a comparison with a number "
                    f"in {key}'s unit; write {written}")  # fmt: skip
    comparison, number, unit = found.groups()
    value = float(number) * _TO_MS.get(unit or "", 1.0)
    return Target(metric, "below" if comparison == "<" else "above", value)


def parse_document_targets(root: yaml.MappingNode, source: str) -> list[Target]:
    """The targets under ``performance_targets:`` in the document's form."""
    (key_node, groups_node), *others = root.value
    if key_node.value != DOCUMENT_KEY or others:
        raise line_error(source, key_node, f"the document's form has one key, {DOCUMENT_KEY}:")
    targets: list[Target] = []
    seen: set[str] = set()
    for group_node, keys_node in _pairs(groups_node, source, DOCUMENT_KEY):
        group = GROUPS.get(group_node.value)
        if group is None:
            raise line_error(source, group_node, f"unknown group {group_node.value!r}; known: "
                        f"{', '.join(GROUPS)}")  # fmt: skip
        for name_node, value_node in _pairs(keys_node, source, group_node.value):
            if name_node.value not in group:
                raise line_error(source, name_node, f"{group_node.value} has no "
                            f"{name_node.value!r}; known: {', '.join(group)}")  # fmt: skip
            metric, units = group[name_node.value]
            if metric in seen:
                raise line_error(source, name_node, f"{name_node.value} is given twice")
            seen.add(metric)
            targets.append(_target(name_node.value, value_node, metric, units, source))
    if not targets:
        raise line_error(source, key_node, f"{DOCUMENT_KEY} holds no target")
    return targets
