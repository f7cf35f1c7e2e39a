"""pytest-benchmark files and asv results are read for one commit, and only for it."""

from __future__ import annotations

import json
from pathlib import Path

from lab.report.bench_results import asv_rows, pytest_benchmark_rows

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def pytest_benchmark_file(folder: Path, commit: str, name: str, when: str) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({
        "commit_info": {"id": commit}, "datetime": when,
        "benchmarks": [{"fullname": f"tests/bench/test_x.py::{name}", "group": "caching",
                        "stats": {"median": 0.002, "iqr": 0.0001, "min": 0.0019,
                                  "max": 0.003, "rounds": 40}}],
    }))  # fmt: skip
    return path


def test_the_newest_pytest_benchmark_file_of_the_commit_is_read(tmp_path: Path) -> None:
    pytest_benchmark_file(tmp_path, COMMIT, "older", "2026-11-27T10:00:00")
    pytest_benchmark_file(tmp_path, COMMIT, "newer", "2026-11-28T10:00:00")
    pytest_benchmark_file(tmp_path, "f" * 40, "other_commit", "2026-11-29T10:00:00")
    rows, source = pytest_benchmark_rows([tmp_path], COMMIT[:7])
    assert source.endswith("newer.json")
    (row,) = rows
    assert (row.name, row.params, row.value, row.samples) == (
        "tests/bench/test_x.py::newer",
        "caching",
        0.002,
        "40 rounds",
    )


def test_no_file_for_the_commit_says_so(tmp_path: Path) -> None:
    pytest_benchmark_file(tmp_path, "f" * 40, "other", "2026-11-29T10:00:00")
    (tmp_path / "broken.json").write_text("{not json")
    assert pytest_benchmark_rows([tmp_path], COMMIT[:7]) == (
        [],
        f"no pytest-benchmark file for commit {COMMIT[:7]}",
    )


def test_asv_results_with_parameters_and_units(tmp_path: Path) -> None:
    (tmp_path / "benchmarks.json").write_text(json.dumps({
        "benchmark_caching.Cost.time_hit": {"unit": "seconds"},
        "benchmark_caching.Behaviour.track_hit_ratio": {"unit": "ratio"},
    }))  # fmt: skip
    machine = tmp_path / "vm"
    machine.mkdir()
    columns = [
        "result",
        "params",
        "version",
        "started_at",
        "duration",
        "stats_ci_99_a",
        "stats_ci_99_b",
        "stats_q_25",
        "stats_q_75",
        "stats_number",
        "stats_repeat",
    ]
    (machine / f"{COMMIT[:8]}-existing-py.json").write_text(json.dumps({
        "version": 2, "commit_hash": COMMIT, "result_columns": columns,
        "results": {
            "benchmark_caching.Cost.time_hit": [
                [0.001, 0.002], [["'memory'", "'redis'"]], "v", 0, 1.0, [0.0009, 0.0019],
                [0.0011, 0.0021], [0.00095, 0.0019], [0.00105, 0.0021], [10, 10], [5, 5]],
            "benchmark_caching.Behaviour.track_hit_ratio": [[0.65], [], "v", 0, 1.0],
        },
    }))  # fmt: skip
    rows, source = asv_rows(tmp_path, COMMIT)
    assert source.endswith(f"{COMMIT[:8]}-existing-py.json")
    found = {(row.name, row.params): row for row in rows}
    assert found[("benchmark_caching.Cost.time_hit", "'redis'")].value == 0.002
    assert found[("benchmark_caching.Cost.time_hit", "'redis'")].samples == "5 repeats"
    assert found[("benchmark_caching.Behaviour.track_hit_ratio", "")].unit == "ratio"
    assert asv_rows(tmp_path, "f" * 40)[0] == []
