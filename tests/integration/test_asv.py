"""asv checks every suite, runs the cost suites from the venv (--python=same) and publishes
its HTML."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: asv itself runs two in-process cost suites with cheap setups, a timing and a peak-memory
#: kind between them: its run, results and publishing are what this checks (asv gives each
#: benchmark a process and a setup of its own: all 13 took 44 s of make test). Every
#: suite's form is `asv check`'s, and every cost benchmark runs once in process below.
COST_SUITES = r"(LimiterCost|BoundedCost)\."
KINDS = ("time_", "peakmem_", "mem_", "track_")


def _cost_suites() -> list[tuple[str, str]]:
    found = []
    for module in sorted((ROOT / "benchmarks").glob("benchmark_*.py")):
        loaded = importlib.import_module(f"benchmarks.{module.stem}")
        found += [(module.stem, name) for name, suite in vars(loaded).items()
                  if isinstance(suite, type) and name.endswith("Cost")
                  and suite.__module__ == loaded.__name__]  # fmt: skip
    return found


@pytest.mark.parametrize(("module", "suite"), _cost_suites(), ids=lambda part: str(part))
def test_every_cost_benchmark_runs_once_in_process(module: str, suite: str) -> None:
    """What asv would time, each benchmark of the suite once after one setup."""
    instance = getattr(importlib.import_module(f"benchmarks.{module}"), suite)()
    methods = sorted(name for name in vars(type(instance)) if name.startswith(KINDS))
    assert methods, f"{suite} has no benchmark"
    if hasattr(instance, "setup"):
        instance.setup()
    try:
        for method in methods:
            getattr(instance, method)()
    finally:
        if hasattr(instance, "teardown"):
            instance.teardown()


@pytest.mark.slow
def test_asv_quick_run_and_publish(tmp_path: Path, all_up: None) -> None:
    config = json.loads((ROOT / "asv.conf.json").read_text())
    config.update(
        repo=str(ROOT), benchmark_dir=str(ROOT / "benchmarks"),
        results_dir=str(tmp_path / "results"), html_dir=str(tmp_path / "html"),
        env_dir=str(tmp_path / "env"),
    )  # fmt: skip
    conf = tmp_path / "asv.conf.json"
    conf.write_text(json.dumps(config))
    asv = [sys.executable, "-m", "asv"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*asv, *args, "--config", str(conf)],
            capture_output=True, text=True, timeout=900, check=False, cwd=ROOT,
        )  # fmt: skip

    assert run("machine", "--yes").returncode == 0
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    # --python=same saves results only when told which commit they belong to.
    # Every suite must import and be well formed. The suites that re-run a whole experiment
    # (the ExperimentBehaviour ones) are fed the test session's frames by tests/bench
    # (asv_tracks.py), and the timings against servers run there as pytest-benchmark
    # smoke tests; here asv itself runs the in-process cost suites.
    checked = run("check", "--python=same")
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
    done = run(
        "run", "--python=same", "--quick", "--show-stderr", "--bench", COST_SUITES,
        "--set-commit-hash", head,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "failed" not in done.stdout.lower()
    results = [
        p
        for p in (tmp_path / "results").rglob("*.json")
        if p.name not in {"machine.json", "benchmarks.json"}
    ]
    assert results, done.stdout[-2000:]
    stored = json.loads(results[0].read_text())["results"]
    assert any("LimiterCost.time_" in name for name in stored)
    assert any("BoundedCost.peakmem_" in name for name in stored)
    assert not any("Behaviour" in name or "PythonVsNative" in name for name in stored)

    published = run("publish")
    assert published.returncode == 0, published.stderr[-2000:]
    assert (tmp_path / "html" / "index.html").exists()
