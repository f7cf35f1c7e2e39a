"""SLOs as objectives: what share of requests must be good over a window.

``slo.yaml``'s threshold lines say what one run must show (p99 < 1 s at 1,000
requests/s). Its ``objectives:`` say what share of requests must be good over a window,
as the Google SRE workbook states an SLO and alerts on how fast its error budget burns
(``lab slo rules``)::

    objectives:
      - name: availability
        sli: availability            # requests not answered with a 5xx
        target_percent: 99.9
        window: 30d
      - name: latency
        sli: {latency_below_ms: 500}  # requests served within 500 ms
        target_percent: 99
        window: 30d

A latency threshold must be a bucket edge of the lab's request histogram
(``REQUEST_BUCKETS_S``), so that Prometheus counts it exactly. Every error names its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from lab.harness.slo_source import compose, line_error, read_slo_text
from lab.patterns.monitoring import REQUEST_BUCKETS_S

__all__ = ["OBJECTIVES_KEY", "Objective", "load_objectives", "parse_duration_s",
           "parse_objectives"]  # fmt: skip

OBJECTIVES_KEY = "objectives"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_DURATION = re.compile(r"(\d+)(s|m|h|d|w)")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_EDGES_MS = {round(edge * 1000, 6): edge for edge in REQUEST_BUCKETS_S}
_FIELDS = ("name", "sli", "target_percent", "window")


@dataclass(frozen=True)
class Objective:
    name: str
    sli: Literal["availability", "latency"]
    target_percent: float
    window_s: int
    #: For a latency objective: a request is good when served within this many seconds.
    threshold_s: float | None = None

    @property
    def budget(self) -> float:
        """The error budget, as a share of requests (0.001 for 99.9 %)."""
        return round(1.0 - self.target_percent / 100.0, 12)

    def describe(self) -> str:
        good = (
            "not answered with a 5xx"
            if self.threshold_s is None
            else f"served within {self.threshold_s * 1000:g} ms"
        )
        return (f"{self.name}: {self.target_percent:g} % of requests {good}, over "
                f"{format_duration(self.window_s)}")  # fmt: skip


def parse_duration_s(text: str) -> int | None:
    """``30d`` -> 2592000; None unless it is a whole number and one of s, m, h, d, w."""
    found = _DURATION.fullmatch(str(text).strip())
    return int(found.group(1)) * _UNIT_S[found.group(2)] if found else None


def format_duration(seconds: float) -> str:
    """The largest whole unit: 2592000 -> ``30d``, 90 -> ``90s``."""
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNIT_S[unit] and seconds % _UNIT_S[unit] == 0:
            return f"{int(seconds // _UNIT_S[unit])}{unit}"
    return f"{int(seconds)}s"


def _sli(node: yaml.Node, source: str) -> tuple[Literal["availability", "latency"], float | None]:
    if isinstance(node, yaml.ScalarNode) and node.value == "availability":
        return "availability", None
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    if len(pairs) == 1 and pairs[0][0].value == "latency_below_ms":
        try:
            edge = _EDGES_MS.get(round(float(pairs[0][1].value), 6))
        except (TypeError, ValueError):
            edge = None
        if edge is None:
            raise line_error(source, pairs[0][1], "latency_below_ms must be an edge of the request "
                        "histogram: " + ", ".join(f"{ms:g}" for ms in _EDGES_MS))  # fmt: skip
        return "latency", edge
    raise line_error(source, node, "sli is `availability` or `{latency_below_ms: N}`")


def _objective(node: yaml.Node, source: str) -> Objective:
    if not isinstance(node, yaml.MappingNode):
        raise line_error(source, node, f"an objective is a mapping of {', '.join(_FIELDS)}")
    given = {key.value: (key, value) for key, value in node.value}
    unknown = [key for key in given if key not in _FIELDS]
    if unknown:
        raise line_error(source, given[unknown[0]][0], f"unknown field {unknown[0]!r}; an "
                         f"objective has {', '.join(_FIELDS)}")  # fmt: skip
    missing = [name for name in _FIELDS if name not in given]
    if missing:
        raise line_error(source, node, f"the objective lacks {', '.join(missing)}")
    name = given["name"][1].value
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise line_error(source, given["name"][1], f"name {name!r} must be lower-case letters, "
                    "digits, _ and -")  # fmt: skip
    sli, threshold = _sli(given["sli"][1], source)
    try:
        target = float(given["target_percent"][1].value)
    except (TypeError, ValueError):
        target = float("nan")
    if not 0.0 < target < 100.0:
        raise line_error(source, given["target_percent"][1], "target_percent is a number between "
                    "0 and 100 (99.9 for three nines), exclusive")  # fmt: skip
    window = parse_duration_s(given["window"][1].value)
    if window is None:
        raise line_error(source, given["window"][1], "window is a whole number of s, m, h, d or w "
                    "(30d, 4w)")  # fmt: skip
    return Objective(name, sli, target, window, threshold)


def objectives_from(node: yaml.Node, source: str) -> list[Objective]:
    """The objectives of the ``objectives:`` node of an SLO file."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise line_error(source, node, "objectives is a list of objectives (- name: ...)")
    found = [_objective(item, source) for item in node.value]
    seen: set[str] = set()
    for item, objective in zip(node.value, found, strict=True):
        if objective.name in seen:
            raise line_error(source, item, f"objective {objective.name!r} is given twice")
        seen.add(objective.name)
    return found


def parse_objectives(text: str, source: str = "slo.yaml") -> list[Objective]:
    """The objectives of an SLO file's text (none when it has no ``objectives:``)."""
    root = compose(text, source)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == OBJECTIVES_KEY:
            return objectives_from(value, source)
    return []


def load_objectives(path: Path) -> list[Objective]:
    return parse_objectives(read_slo_text(path), str(path))
