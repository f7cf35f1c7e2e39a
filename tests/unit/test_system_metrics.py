"""Container-aware limits from cgroup v2 files, and the system gauges as Prometheus sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from lab.patterns.system_metrics import (
    CgroupLimits,
    metrics_registry,
    read_cgroup_limits,
    snapshot,
    start_exporter,
)


def _cgroup(tmp_path: Path, memory_max: str, cpu_max: str) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    where = root / "system.slice" / "lab.service"
    where.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory\n")
    (where / "memory.max").write_text(memory_max + "\n")
    (where / "memory.current").write_text("104857600\n")
    (where / "cpu.max").write_text(cpu_max + "\n")
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text("0::/system.slice/lab.service\n")
    return root, proc


def test_limits_come_from_the_process_cgroup(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "536870912", "150000 100000")
    assert read_cgroup_limits(root, proc) == CgroupLimits(536870912, 104857600, 1.5)


def test_max_means_no_limit(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "max", "max 100000")
    assert read_cgroup_limits(root, proc) == CgroupLimits(None, 104857600, None)


def test_no_cgroup_v2_means_host_figures(tmp_path: Path) -> None:
    assert read_cgroup_limits(tmp_path / "absent", tmp_path / "absent") == CgroupLimits(
        None, None, None
    )


def test_a_container_limit_is_the_denominator(tmp_path: Path) -> None:
    root, proc = _cgroup(tmp_path, "536870912", "50000 100000")
    s = snapshot(limits=read_cgroup_limits(root, proc))
    assert s.in_container
    assert s.memory_percent == pytest.approx(100 * 104857600 / 536870912)
    assert s.cpu_limit_cores == 0.5


def test_the_exporter_text_parses() -> None:
    text = generate_latest(metrics_registry()).decode()
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"lab_process_cpu_percent", "lab_memory_percent", "lab_cpu_limit_cores",
            "lab_process_resident_memory_bytes"} <= names  # fmt: skip


def test_the_standalone_exporter_serves_the_registry() -> None:
    import socket
    import urllib.request

    from lab.patterns.monitoring import RequestCollector, RequestMetrics

    metrics = RequestMetrics()
    metrics.observe(metrics.started("GET"), "/x", 200, 0.01)
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server, thread = start_exporter(port, metrics_registry(RequestCollector(metrics)))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "http_requests_total"}  # fmt: skip
    assert samples == {"http_requests_total": 1.0}
