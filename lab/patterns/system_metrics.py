"""CPU and memory as the process actually has them, container limits included.

A service capped at 512 MiB on a 64 GiB host must not report 1 % used while it is being
killed for memory: the limits come from cgroup v2 when the process runs under one (``memory.max``,
``cpu.max``), and from the host otherwise; utilization is used / limit either way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import psutil
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "CgroupLimits",
    "SystemCollector",
    "SystemSnapshot",
    "metrics_registry",
    "read_cgroup_limits",
    "snapshot",
    "start_exporter",
]

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CgroupLimits:
    """What cgroup v2 says about this process; ``None`` where there is no limit."""

    memory_max_bytes: int | None
    memory_current_bytes: int | None
    cpu_limit_cores: float | None


def _cgroup_dir(root: Path, proc_self_cgroup: Path) -> Path | None:
    try:
        lines = proc_self_cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):  # the unified (v2) hierarchy
            return root / line[3:].lstrip("/")
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def read_cgroup_limits(
    root: Path = CGROUP_ROOT, proc_self_cgroup: Path = Path("/proc/self/cgroup")
) -> CgroupLimits:
    """The process's cgroup v2 memory and CPU limits (all ``None`` outside cgroup v2)."""
    where = _cgroup_dir(root, proc_self_cgroup)
    if where is None or not (root / "cgroup.controllers").exists():
        return CgroupLimits(None, None, None)
    memory_max = _read(where / "memory.max")
    memory_current = _read(where / "memory.current")
    cpu_max = _read(where / "cpu.max")
    cores = None
    if cpu_max and not cpu_max.startswith("max"):
        quota, _, period = cpu_max.partition(" ")
        cores = int(quota) / int(period or "100000")
    return CgroupLimits(
        memory_max_bytes=int(memory_max) if memory_max and memory_max != "max" else None,
        memory_current_bytes=int(memory_current) if memory_current else None,
        cpu_limit_cores=cores,
    )


@dataclass(frozen=True)
class SystemSnapshot:
    process_cpu_percent: float  # of one core, as top shows it
    system_cpu_percent: float  # of the cores the process may use
    process_rss_bytes: int
    memory_used_bytes: int
    memory_limit_bytes: int
    cpu_limit_cores: float
    in_container: bool

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_used_bytes / self.memory_limit_bytes


def snapshot(
    process: psutil.Process | None = None, limits: CgroupLimits | None = None
) -> SystemSnapshot:
    """CPU since the previous call (psutil's semantics: the first call reads 0) and memory."""
    process = process or psutil.Process()
    limits = limits or read_cgroup_limits()
    cores = limits.cpu_limit_cores or float(len(os.sched_getaffinity(0)))
    host = psutil.virtual_memory()
    if limits.memory_max_bytes is not None and limits.memory_current_bytes is not None:
        used, limit = limits.memory_current_bytes, limits.memory_max_bytes
    else:
        used, limit = host.total - host.available, host.total
    process_cpu = process.cpu_percent(None)
    system_cpu = psutil.cpu_percent(None) * (psutil.cpu_count() or 1) / cores
    return SystemSnapshot(
        process_cpu_percent=process_cpu,
        system_cpu_percent=min(100.0, system_cpu),
        process_rss_bytes=process.memory_info().rss,
        memory_used_bytes=used,
        memory_limit_bytes=limit,
        cpu_limit_cores=cores,
        in_container=limits.memory_max_bytes is not None or limits.cpu_limit_cores is not None,
    )


class SystemCollector(Collector):
    """Process and system CPU and memory, read when scraped."""

    def __init__(self, process: psutil.Process | None = None, prefix: str = "lab") -> None:
        self.process = process or psutil.Process()
        self.prefix = prefix
        self.process.cpu_percent(None)  # start psutil's CPU interval

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s, p = snapshot(self.process), self.prefix
        yield GaugeMetricFamily(
            f"{p}_process_cpu_percent", "Process CPU, % of one core", value=s.process_cpu_percent
        )
        yield GaugeMetricFamily(
            f"{p}_system_cpu_percent", "CPU of the cores allowed, %", value=s.system_cpu_percent
        )
        yield GaugeMetricFamily(
            f"{p}_process_resident_memory_bytes", "Process RSS", value=s.process_rss_bytes
        )
        yield GaugeMetricFamily(
            f"{p}_memory_used_bytes", "Memory used (cgroup or host)", value=s.memory_used_bytes
        )
        yield GaugeMetricFamily(
            f"{p}_memory_limit_bytes", "Memory limit (cgroup or host)", value=s.memory_limit_bytes
        )
        yield GaugeMetricFamily(
            f"{p}_memory_percent", "Memory used / limit, %", value=s.memory_percent
        )
        yield GaugeMetricFamily(
            f"{p}_cpu_limit_cores", "Cores the process may use", value=s.cpu_limit_cores
        )


def metrics_registry(*collectors: Collector, system: bool = True) -> CollectorRegistry:
    """A fresh registry holding ``collectors`` (request metrics, pools, caches, ...) and,
    unless ``system=False``, the process and system gauges."""
    registry = CollectorRegistry()
    if system:
        registry.register(SystemCollector())
    for collector in collectors:
        registry.register(collector)
    return registry


def start_exporter(
    port: int, registry: CollectorRegistry, addr: str = "127.0.0.1"
) -> tuple[WSGIServer, threading.Thread]:
    """A standalone ``/metrics`` exporter on a thread (prometheus_client's own server);
    stop it with ``server.shutdown()``."""
    return start_http_server(port, addr=addr, registry=registry)
