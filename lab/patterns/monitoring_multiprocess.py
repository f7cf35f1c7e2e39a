"""Prometheus multiprocess mode for collectors that compute their figures when scraped.

prometheus_client's multiprocess mode works for its own ``Counter``/``Gauge``/
``Histogram``: each process writes its values to memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR``, and ``MultiProcessCollector`` merges the files of every
process at scrape time. Custom collectors (the lab's request, pool, cache, limiter and
Kafka collectors) have no files, so with several workers a scrape would show only the
worker that answered it: a request count that depends on which process you ask.

:class:`MultiprocessMetrics` closes that gap. ``flush()`` copies what this process's
collectors report into the same files, in prometheus_client's own format:

- counters are written as this process's running total; the merge adds the processes,
  including the files of workers that have exited, so a total never goes down;
- histograms are written bucket by bucket (not cumulative) with their sum, as
  prometheus_client's ``Histogram`` stores them; the merge adds them and rebuilds
  ``_bucket``/``_count``;
- gauges go to ``live*`` files that ``mark_process_dead(pid)`` removes when a worker
  exits; :func:`gauge_mode` says how the workers' values combine.

A worker flushes every second (``run``) and once more before answering a scrape and
before it exits, so a scrape sees every other worker as of at most one interval ago.
The file format is prometheus_client's; nothing here parses it.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.multiprocess import mark_process_dead as _mark_process_dead
from prometheus_client.registry import Collector

from lab.errors import ConfigError

__all__ = ["MultiprocessMetrics", "gauge_mode", "mark_process_dead", "scrape_registry"]

_ENV = "PROMETHEUS_MULTIPROC_DIR"
_value_classes: dict[int | None, Any] = {}


def gauge_mode(name: str) -> str:
    """How the workers' values of one gauge combine. Readings of the machine (system CPU,
    memory, limits) and ratios take the largest; what each worker holds or spends
    (connections, permits, requests in progress, its own CPU and memory) adds up."""
    if name.endswith(("_process_cpu_percent", "_process_resident_memory_bytes")):
        return "livesum"
    if name.endswith(("_percent", "_utilization", "_bytes", "_cores", "_lag")):
        return "livemax"
    return "livesum"


def _value_class(process_id: int | None) -> Any:
    """prometheus_client's file-backed value class. In a process started with
    ``PROMETHEUS_MULTIPROC_DIR`` set, it is the one its own metrics already use: a second
    class would open the same file twice and the two would overwrite each other."""
    if process_id is None and getattr(values.ValueClass, "_multiprocess", False):
        return values.ValueClass
    if process_id not in _value_classes:
        identify = os.getpid if process_id is None else (lambda: process_id)
        _value_classes[process_id] = values.MultiProcessValue(  # type: ignore[no-untyped-call]
            process_identifier=identify
        )
    return _value_classes[process_id]


def _metrics_dir() -> str:
    path = os.environ.get(_ENV)
    if not path or not os.path.isdir(path):
        raise ConfigError(f"{_ENV} must name an existing folder for multiprocess metrics")
    return path


def scrape_registry() -> CollectorRegistry:
    """A registry whose scrape merges every process's files."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=_metrics_dir())  # type: ignore[no-untyped-call]
    return registry


def mark_process_dead(pid: int) -> None:
    """A worker has exited: remove its live gauges (its counters and histograms stay)."""
    _mark_process_dead(pid, _metrics_dir())  # type: ignore[no-untyped-call]


class MultiprocessMetrics:
    """Writes ``collectors``' figures to this process's multiprocess files.

    ``process_id`` stands in for the pid (tests play several workers in one process).
    """

    def __init__(
        self,
        collectors: Iterable[Collector],
        *,
        process_id: int | None = None,
        modes: Callable[[str], str] = gauge_mode,
    ) -> None:
        _metrics_dir()
        self.collectors = list(collectors)
        self.modes = modes
        self._value_class = _value_class(process_id)
        self._values: dict[tuple[Any, ...], Any] = {}

    def _set(
        self,
        kind: str,
        family: str,
        sample: str,
        labels: dict[str, str],
        help_text: str,
        value: float,
        mode: str = "",
    ) -> None:
        names, found = tuple(labels), tuple(labels.values())
        key = (kind, family, sample, names, found, mode)
        slot = self._values.get(key)
        if slot is None:
            slot = self._values[key] = self._value_class(
                kind, family, sample, names, found, help_text, multiprocess_mode=mode
            )
        slot.set(value)

    def flush(self) -> None:
        for collector in self.collectors:
            for family in collector.collect():
                if family.type == "histogram":
                    self._histogram(family)
                    continue
                if family.type not in ("counter", "gauge"):
                    continue  # the lab's collectors make no other kind
                mode = self.modes(family.name) if family.type == "gauge" else ""
                for sample in family.samples:
                    if not sample.name.endswith("_created"):
                        self._set(
                            family.type,
                            family.name,
                            sample.name,
                            sample.labels,
                            family.documentation,
                            sample.value,
                            mode,
                        )

    def _histogram(self, family: Any) -> None:
        cumulative: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]]
        cumulative = defaultdict(list)
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                rest = tuple((k, v) for k, v in sample.labels.items() if k != "le")
                cumulative[rest].append((sample.value, sample.labels["le"]))
            elif sample.name.endswith("_sum"):
                self._set(
                    "histogram",
                    family.name,
                    sample.name,
                    sample.labels,
                    family.documentation,
                    sample.value,
                )
        for rest, buckets in cumulative.items():
            below = 0.0
            for count, bound in sorted(buckets, key=lambda bucket: float(bucket[1])):
                self._set(
                    "histogram",
                    family.name,
                    f"{family.name}_bucket",
                    {**dict(rest), "le": bound},
                    family.documentation,
                    count - below,
                )
                below = count

    async def run(self, interval_s: float = 1.0) -> None:
        """Flush every ``interval_s`` until cancelled; once more on the way out."""
        try:
            while True:
                self.flush()
                await asyncio.sleep(interval_s)
        finally:
            self.flush()
