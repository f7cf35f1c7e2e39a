"""`lab loadtest` and `lab simulate` as a user runs them: exit codes, JSON, merge, workers."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lab.harness.simulate import ServerModel, server_process
from tests.conftest import LAB, ROOT

RunLab = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with server_process(ServerModel(service_s=0.002)) as found:
        yield found


def _json(path: Path) -> dict[str, object]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_json_result_and_slo_exit_codes(run_lab: RunLab, url: str, tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    failing = run_lab("loadtest", url, "--rate", "50", "--duration", "1s", "--json", str(out),
                      "--slo", "slo.yaml")  # fmt: skip
    assert failing.returncode == 1, failing.stderr  # 50 rps misses "throughput_rps > 1000"
    assert "SLO FAIL" in failing.stdout
    data = _json(out)
    assert (data["requests"], data["errors"], data["dropped"]) == (50, 0, 0)
    assert set(data["latency_ms"]) >= {"p50", "p90", "p95", "p99", "p999", "max"}  # type: ignore[arg-type]

    lenient = tmp_path / "slo.yaml"
    lenient.write_text("latency_p99_ms: {below: 60000}\nerror_rate_percent: {below: 1}\n")
    passing = run_lab("loadtest", url, "--rate", "50", "--duration", "1s", "--slo", str(lenient))
    assert passing.returncode == 0, passing.stderr
    assert "SLO PASS: 2 pass" in passing.stdout


def test_a_server_answering_errors_fast_fails_the_throughput_line(
    run_lab: RunLab, tmp_path: Path
) -> None:
    """Nine requests in ten end, fast, in a 500: every request is answered at the rate
    offered, and few are served. (All of them failing exits 3: nothing succeeded.)"""
    slo = tmp_path / "slo.yaml"
    slo.write_text("throughput_rps: {above: 40}\nlatency_p99_ms: {below: 60000}\n")
    out = tmp_path / "errors.json"
    with server_process(ServerModel(service_s=0.001, error_rate=0.9)) as failing_url:
        done = run_lab("loadtest", failing_url, "--rate", "50", "--duration", "1s", "--json",
                       str(out), "--slo", str(slo))  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    data = _json(out)
    errors = data["errors"]
    assert data["requests"] == 50 and 30 <= errors < 50  # type: ignore[operator]
    assert sum(data["status_counts"].values()) == 50  # type: ignore[attr-defined]  # all answered
    assert data["succeeded_rps"] == pytest.approx(
        (50 - errors) / data["elapsed_s"]  # type: ignore[operator]
    )
    assert "SLO FAIL: 1 pass, 1 fail" in done.stdout  # the latency line passes, the rate not


def test_merge_combines_runs(run_lab: RunLab, url: str, tmp_path: Path) -> None:
    parts = []
    for name, rate in (("a", "40"), ("b", "60")):
        parts.append(tmp_path / f"{name}.json")
        done = run_lab("loadtest", url, "--rate", rate, "--duration", "1s", "--json",
                       str(parts[-1]))  # fmt: skip
        assert done.returncode == 0, done.stderr
    merged = tmp_path / "merged.json"
    done = run_lab("loadtest", "merge", *map(str, parts), "--json", str(merged))
    assert done.returncode == 0, done.stderr
    data = _json(merged)
    assert data["requests"] == 100
    assert data["settings"]["merged_parts"] == 2  # type: ignore[index]


def test_workers_split_the_schedule_without_loss(run_lab: RunLab, url: str, tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    done = run_lab("loadtest", url, "--rate", "90", "--duration", "1s", "--workers", "2",
                   "--json", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = _json(out)
    assert data["requests"] == 90 and data["dropped"] == 0
    assert data["settings"]["workers"] == 2  # type: ignore[index]


def test_segments_started_together_merge_into_the_whole_schedule(url: str, tmp_path: Path) -> None:
    """Three generators, as on three machines: segments 1/3..3/3 of 300 requests/s for 2 s,
    one --start-at. Their merge holds exactly the 600 requests of one generator's schedule."""
    start_at = datetime.now(UTC) + timedelta(seconds=8)  # after three interpreters start
    outs = [tmp_path / f"segment{i}.json" for i in (1, 2, 3)]
    runs = []
    for i, out in zip((1, 2, 3), outs, strict=True):
        argv = [*LAB, "loadtest", url, "--rate", "300", "--duration", "2s", "--connections",
                "8", "--segment", f"{i}/3", "--start-at", start_at.isoformat(), "--json",
                str(out)]  # fmt: skip
        runs.append(subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True))  # fmt: skip
    for run in runs:
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stderr
    parts = [_json(out) for out in outs]
    assert [part["requests"] for part in parts] == [200, 200, 200]
    assert all(part["started_unix_s"] >= start_at.timestamp() for part in parts)  # type: ignore[operator]
    merged = subprocess.run([*LAB, "loadtest", "merge", *map(str, outs), "--json",
                             str(tmp_path / "all.json")], cwd=ROOT, capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    whole = _json(tmp_path / "all.json")
    assert (whole["scheduled"], whole["requests"], whole["errors"]) == (600, 600, 0)
    assert sum(second["requests"] for second in whole["timeline"]) == 600  # type: ignore[index, union-attr]


def test_closed_mode_from_the_cli(run_lab: RunLab, url: str, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    done = run_lab("loadtest", url, "--mode", "closed", "--users", "3", "--think-time", "50ms",
                   "--duration", "500ms", "--json", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = _json(out)
    assert data["settings"]["mode"] == "closed" and data["settings"]["users"] == 3  # type: ignore[index]
    assert data["requests"] > 3  # type: ignore[operator]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("loadtest", "not a url", "--rate", "5"), "not an http:// or https:// URL"),
        (("loadtest", "http://127.0.0.1:1/", "--rate", "-5"), "rate must be greater than zero"),
        (
            ("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--duration", "0s"),
            "greater than zero",
        ),
        (("loadtest", "http://127.0.0.1:1/", "--stages", "10s=100"), "DURATION:RATE"),
        (("loadtest", "http://127.0.0.1:1/"), "needs --rate"),
        (("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--header", "nocolon"), "Name: value"),
        (("loadtest", "merge"), "merge needs result files"),
        (("loadtest", "merge", "/nonexistent.json"), "cannot read"),
        (("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--segment", "4/3"), "from 1 to N"),
        (("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--start-at", "noon"), "2026-12"),
        (("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--insecure"), "https://"),
        (
            ("loadtest", "https://127.0.0.1:1/", "--rate", "5", "--ca-file", "/nonexistent.pem"),
            "--ca-file",
        ),
        (
            ("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--expect-status", "ok"),
            "--expect-status",
        ),
        (
            ("loadtest", "http://127.0.0.1:1/", "--rate", "5", "--method", "GE T"),
            "not an HTTP method",
        ),
        (("simulate", "--stall-every", "5s"), "go together"),
        (("simulate", "--cert-file", "a.pem"), "go together"),
        (("simulate", "--error-rate", "2"), "between 0 and 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    lab_here: RunLab, args: tuple[str, ...], words: str
) -> None:
    done = lab_here(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in done.stderr
