from __future__ import annotations

from pathlib import Path

import pytest

from lab.errors import ConfigError
from lab.harness.slo import Target, evaluate, load_slo, parse_slo, verdict_line

ROOT = Path(__file__).resolve().parents[2]


def test_repository_slo_holds_the_seed_targets() -> None:
    targets = {str(t) for t in load_slo(ROOT / "slo.yaml")}
    assert targets == {
        "latency_p50_ms < 200", "latency_p95_ms < 500", "latency_p99_ms < 1000",
        "throughput_rps > 1000", "concurrent_users > 500", "cpu_percent < 70",
        "memory_percent < 80", "db_connections_percent < 80",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("latency_p50_ms: {below: 200}\nlatency_p51_ms: {below: 1}\n", 2, "unknown metric"),
        ("throughput_rps: {above: lots}\n", 1, "not a number"),
        ("cpu_percent: {under: 70}\n", 1, "unknown bound"),
        ("cpu_percent: {below: 70, above: 10}\n", 1, "exactly one"),
        ("cpu_percent: 70\n", 1, "exactly one"),
        ("# c\ncpu_percent: {below: 70}\ncpu_percent: {below: 60}\n", 3, "twice"),
        ("cpu_percent: {below: .nan}\n", 1, "not a number"),
        ("- cpu_percent\n", 1, "must be a mapping"),
        ("a: [1,\n", 2, ""),
    ],
)
def test_malformed_slo_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_slo(text, "slo.yaml")
    message = str(caught.value)
    assert message.startswith(f"slo.yaml, line {line}:")
    assert words in message
    assert "\n" not in message


def test_empty_and_missing_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="empty"):
        parse_slo("")
    with pytest.raises(ConfigError, match="cannot read"):
        load_slo(tmp_path / "absent.yaml")


def test_evaluate_pass_fail_margin_and_unmeasured() -> None:
    targets = [
        Target("latency_p99_ms", "below", 1000),
        Target("throughput_rps", "above", 1000),
        Target("cpu_percent", "below", 70),
    ]
    verdicts = evaluate(targets, {"latency_p99_ms": 250.0, "throughput_rps": 800.0})
    p99, rps, cpu = verdicts
    assert (p99.passed, p99.margin_percent) == (True, 75.0)
    assert (rps.passed, rps.margin_percent) == (False, -20.0)
    assert (cpu.passed, cpu.margin_percent, cpu.status) == (None, None, "not measured")
    assert verdict_line(verdicts) == "SLO FAIL: 1 pass, 1 fail, 1 not measured (of 3 targets)"


def test_a_value_on_the_bound_misses_it() -> None:
    (verdict,) = evaluate([Target("cpu_percent", "below", 70)], {"cpu_percent": 70.0})
    assert verdict.passed is False
