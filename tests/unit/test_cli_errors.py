"""Bad input gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

RunLab = Callable[..., CompletedProcess[str]]


def _one_line_error(done: CompletedProcess[str], code: int, words: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lab: ") and words in lines[0]


def test_malformed_endpoint(run_lab: RunLab) -> None:
    done = run_lab("services", "status", env={"LAB_REDIS_URL": "http://nowhere"})
    _one_line_error(done, 2, "LAB_REDIS_URL")


def test_malformed_slo_file(run_lab: RunLab, tmp_path: Path) -> None:
    bad = tmp_path / "slo.yaml"
    bad.write_text("latency_p50_ms: {below: 200}\nthroughput: {above: 1}\n")
    done = run_lab("slo", str(bad))
    _one_line_error(done, 2, "line 2: unknown metric 'throughput'")


def test_run_refuses_a_malformed_slo_before_measuring(run_lab: RunLab, tmp_path: Path) -> None:
    bad = tmp_path / "slo.yaml"
    bad.write_text("cpu_percent: {below: seventy}\n")
    done = run_lab("run", "baseline", "--slo", str(bad), "--results", str(tmp_path / "r"))
    _one_line_error(done, 2, "not a number")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("run", "no-such-experiment"), "unknown experiment no-such-experiment"),
        (("services", "up", "--only", "mysql"), "--only takes"),
        (("report", "--results", "/nonexistent/results"), "no results under"),
        (("report", "--run", "/nonexistent/run"), "is not a folder"),
    ],
)
def test_usage_errors(run_lab: RunLab, args: tuple[str, ...], words: str) -> None:
    _one_line_error(run_lab(*args), 2, words)


def test_good_slo_file_lists_targets(run_lab: RunLab) -> None:
    done = run_lab("slo")
    assert done.returncode == 0
    assert "latency_p99_ms < 1000" in done.stdout
