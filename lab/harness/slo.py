"""SLO targets from ``slo.yaml``: loaded strictly, evaluated into pass/fail with a margin.
``performance-patterns.ja.md``'s form of the same targets is read too."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from lab.errors import ConfigError
from lab.harness.slo_document import DOCUMENT_KEY, parse_document_targets
from lab.harness.slo_objectives import OBJECTIVES_KEY, objectives_from
from lab.harness.slo_source import compose, line_error, read_slo_text

__all__ = ["METRICS", "Target", "Verdict", "evaluate", "load_slo", "parse_slo", "verdict_line"]

#: Every metric a target may name, with what it means.
METRICS: dict[str, str] = {
    "latency_p50_ms": "median latency",
    "latency_p90_ms": "90th percentile latency",
    "latency_p95_ms": "95th percentile latency",
    "latency_p99_ms": "99th percentile latency",
    "latency_p999_ms": "99.9th percentile latency",
    "latency_max_ms": "maximum latency",
    "throughput_rps": "requests per second answered without error",
    "concurrent_users": "concurrent users served",
    "error_rate_percent": "share of requests that failed",
    "cpu_percent": "CPU use of the machine",
    "memory_percent": "memory use of the machine",
    "db_connections_percent": "PostgreSQL connections in use, of max_connections",
}
BOUNDS = ("below", "above")
#: Metrics a target may also set for one request name (``lab loadtest --scenario``):
#: ``latency_p99_ms[profile]: {below: 50}``.
PER_NAME = frozenset(m for m in METRICS if m.startswith("latency_") and m != "latency_max_ms"
                     ) | {"error_rate_percent"}  # fmt: skip
_NAMED = re.compile(r"^(\w+)\[([^\[\]]+)\]$")


@dataclass(frozen=True)
class Target:
    metric: str
    bound: str  # "below" or "above"
    value: float

    def __str__(self) -> str:
        return f"{self.metric} {'<' if self.bound == 'below' else '>'} {self.value:g}"


@dataclass(frozen=True)
class Verdict:
    target: Target
    measured: float | None

    @property
    def passed(self) -> bool | None:
        """True or False; None when the run did not measure this metric."""
        if self.measured is None or math.isnan(self.measured):
            return None
        if self.target.bound == "below":
            return self.measured < self.target.value
        return self.measured > self.target.value

    @property
    def margin_percent(self) -> float | None:
        """Headroom as a percent of the target: positive passes, negative misses."""
        if self.passed is None or self.measured is None or self.target.value == 0:
            return None
        gap = self.target.value - self.measured
        if self.target.bound == "above":
            gap = -gap
        return 100.0 * gap / abs(self.target.value)

    @property
    def status(self) -> str:
        return {True: "pass", False: "FAIL", None: "not measured"}[self.passed]


def parse_slo(text: str, source: str = "slo.yaml") -> list[Target]:
    """Parse SLO text; any unknown key or malformed value is a ConfigError naming the line.
    The document's form (``performance_targets:``, :mod:`lab.harness.slo_document`) is
    read too."""
    root = compose(text, source)
    if root is None:
        raise ConfigError(f"{source}: is empty; it needs at least one target")
    if not isinstance(root, yaml.MappingNode):
        raise line_error(source, root, "must be a mapping of metric: {below|above: number}")
    if any(key.value == DOCUMENT_KEY for key, _ in root.value):
        return parse_document_targets(root, source)
    targets: list[Target] = []
    seen: set[str] = set()
    for key_node, value_node in root.value:
        metric = key_node.value
        if metric == OBJECTIVES_KEY:  # objectives, not thresholds: checked, kept apart
            objectives_from(value_node, source)
            continue
        named = _NAMED.match(str(metric))
        if named is not None and named.group(1) not in PER_NAME:
            raise line_error(source, key_node, f"{named.group(1)!r} cannot be set per request "
                             f"name; these can: {', '.join(sorted(PER_NAME))}")  # fmt: skip
        if named is None and metric not in METRICS:
            raise line_error(
                source,
                key_node,
                f"unknown metric {metric!r}; known: {', '.join(METRICS)}"
                " (latency and error rate also per request name: latency_p99_ms[name])",
            )
        if metric in seen:
            raise line_error(source, key_node, f"metric {metric!r} is given twice")
        seen.add(metric)
        if not isinstance(value_node, yaml.MappingNode) or len(value_node.value) != 1:
            raise line_error(source, value_node,
                             f"{metric} needs exactly one of below: N or above: N")  # fmt: skip
        bound_node, number_node = value_node.value[0]
        if bound_node.value not in BOUNDS:
            raise line_error(
                source,
                bound_node,
                f"{metric}: unknown bound {bound_node.value!r}; use below or above",
            )
        try:
            number = float(number_node.value)
        except (TypeError, ValueError):
            number = math.nan
        if not isinstance(number_node, yaml.ScalarNode) or not math.isfinite(number):
            raise line_error(source, number_node,
                             f"{metric}: {number_node.value!r} is not a number")  # fmt: skip
        targets.append(Target(metric, bound_node.value, number))
    return targets


def load_slo(path: Path) -> list[Target]:
    return parse_slo(read_slo_text(path), str(path))


def evaluate(targets: list[Target], measured: Mapping[str, float]) -> list[Verdict]:
    return [Verdict(target, measured.get(target.metric)) for target in targets]


def verdict_line(verdicts: list[Verdict]) -> str:
    counts = {status: sum(v.status == status for v in verdicts) for status in ("pass", "FAIL")}
    unmeasured = sum(v.passed is None for v in verdicts)
    overall = "FAIL" if counts["FAIL"] else ("PASS" if counts["pass"] else "NOT MEASURED")
    return (
        f"SLO {overall}: {counts['pass']} pass, {counts['FAIL']} fail, "
        f"{unmeasured} not measured (of {len(verdicts)} targets)"
    )
