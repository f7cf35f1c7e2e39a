"""What pytest-benchmark and asv stored for one commit, as rows the report can show.

- pytest-benchmark: the JSON files ``pytest --benchmark-only --benchmark-autosave``
  leaves under ``.benchmarks/`` (or one named with ``--benchmark-json``), whose
  ``commit_info.id`` is the commit;
- asv: ``.asv/results/<machine>/<commit[:8]>-<env>.json`` (results format version 2),
  with units from ``.asv/results/benchmarks.json``.

Nothing here runs a benchmark; a source with no file for the commit says so.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BenchRow", "asv_rows", "pytest_benchmark_rows"]


@dataclass(frozen=True)
class BenchRow:
    name: str
    params: str
    value: float
    spread: str  # how the tool states the spread
    unit: str
    samples: str


def _load(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _number(value: float) -> str:
    return f"{value:.4g}"


def pytest_benchmark_rows(paths: list[Path], commit: str) -> tuple[list[BenchRow], str]:
    """Rows of the newest pytest-benchmark file for ``commit`` (a short or full sha) among
    ``paths`` (files or folders searched recursively); and where they came from."""
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*.json"))]
    matching = []
    for file in files:
        data = _load(file)
        if data is None or "benchmarks" not in data:
            continue
        if str(data.get("commit_info", {}).get("id", "")).startswith(commit):
            matching.append((str(data.get("datetime", "")), file, data))
    if not matching:
        return [], f"no pytest-benchmark file for commit {commit}"
    _, file, data = max(matching, key=lambda found: (found[0], str(found[1])))
    rows = []
    for bench in data["benchmarks"]:
        stats = bench.get("stats", {})
        rows.append(BenchRow(
            name=str(bench.get("fullname", bench.get("name", "?"))),
            params=str(bench.get("group") or ""),
            value=float(stats.get("median", math.nan)),
            spread=f"IQR {_number(float(stats.get('iqr', math.nan)))}; "
                   f"min {_number(float(stats.get('min', math.nan)))}, "
                   f"max {_number(float(stats.get('max', math.nan)))}",
            unit="s", samples=f"{stats.get('rounds', '?')} rounds",
        ))  # fmt: skip
    return rows, str(file)


def _asv_units(results_dir: Path) -> dict[str, str]:
    data = _load(results_dir / "benchmarks.json") or {}
    return {name: str(info.get("unit", "")) for name, info in data.items()
            if isinstance(info, dict)}  # fmt: skip


def asv_rows(results_dir: Path, commit: str) -> tuple[list[BenchRow], str]:
    """Rows of asv's result files for ``commit`` (every machine and environment)."""
    if len(commit) < 8:
        return [], f"asv names results by 8 characters of the commit, not {commit!r}"
    files = sorted(results_dir.glob(f"*/{commit[:8]}-*.json"))
    if not files:
        return [], f"no asv results for commit {commit} in {results_dir}"
    units = _asv_units(results_dir)
    rows = []
    for file in files:
        data = _load(file)
        if data is None:
            continue
        columns = data.get("result_columns", [])
        for name, values in sorted(data.get("results", {}).items()):
            rows.extend(_asv_benchmark_rows(name, dict(zip(columns, values, strict=False)),
                                            units.get(name, "")))  # fmt: skip
    return rows, ", ".join(str(file) for file in files)


def _asv_benchmark_rows(name: str, found: dict[str, Any], unit: str) -> list[BenchRow]:
    results = found.get("result")
    if results is None:
        return []
    combos = list(itertools.product(*found["params"])) if found.get("params") else [()]
    if not isinstance(results, list):
        results = [results]
    low, high = found.get("stats_q_25"), found.get("stats_q_75")
    repeat = found.get("stats_repeat")
    rows = []
    for index, (combo, value) in enumerate(zip(combos, results, strict=False)):
        if value is None:
            continue
        spread = ""
        if isinstance(low, list) and isinstance(high, list) and low[index] is not None:
            spread = f"IQR {_number(low[index])}-{_number(high[index])}"
        samples = ""
        if isinstance(repeat, list) and repeat[index] is not None:
            samples = f"{repeat[index]} repeats"
        rows.append(BenchRow(name, ", ".join(str(p) for p in combo), float(value),
                             spread, unit, samples))  # fmt: skip
    return rows
