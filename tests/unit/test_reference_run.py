"""The full run committed in ``reference/``: it opens on a fresh clone with no server
running, and the README's headline table is exactly what ``lab headlines`` makes of it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from lab.experiments import EXPERIMENTS
from lab.experiments.stored import REFERENCE
from lab.harness.results import Run

RunLab = Callable[..., subprocess.CompletedProcess[str]]
README = REFERENCE.parent / "README.md"


def test_the_reference_run_holds_every_experiment_of_a_full_run() -> None:
    run = Run(REFERENCE)
    meta = run.meta()
    assert meta["quick"] is False and meta["skipped"] == {}
    assert run.frame_names() == sorted(EXPERIMENTS) == sorted(meta["finished"])
    assert sum(p.stat().st_size for p in REFERENCE.iterdir()) < 8 * 2**20  # a few MB


def test_report_renders_the_reference_run(run_lab: RunLab, tmp_path: Path) -> None:
    out = tmp_path / "index.html"
    done = run_lab(
        "report", "--run", "reference", "--no-screenshot", "--no-notebooks", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"SLO (PASS|FAIL): \d+ pass, \d+ fail", done.stdout)
    html = out.read_text()
    assert html.count('class="source"') == 8  # each slo.yaml line says where it was measured
    replaced = Run(REFERENCE).meta()["replaced"]["service"]["from_run"]
    assert f"service: from run <code>{replaced}</code>" in html  # the report says which run


def test_the_readme_quotes_the_reference_run(run_lab: RunLab) -> None:
    done = run_lab("headlines", "--run", "reference")
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert "nan" not in done.stdout and "not measured" not in done.stdout
    readme = README.read_text()
    missing = [line for line in table if line not in readme]
    assert len(table) > 40 and not missing, "regenerate with `lab headlines --run reference`"
