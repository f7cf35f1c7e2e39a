"""`lab run` then `lab report`, as `make lab` does them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

RunLab = Callable[..., subprocess.CompletedProcess[str]]
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""")


def test_run_stores_results_and_report_renders_them(
    run_lab: RunLab, all_up: None, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    done = run_lab("run", "baseline", "--quick", "--results", str(results))
    assert done.returncode == 0, done.stderr
    (run,) = list(results.iterdir())
    assert sorted(p.name for p in run.iterdir()) == ["baseline.csv", "meta.json"]
    meta = json.loads((run / "meta.json").read_text())
    assert meta["finished"] == ["baseline"] and meta["quick"] is True
    assert meta["machine"]["cores"] >= 1
    assert set(meta["servers"]) == {"redis", "postgres", "kafka"}

    out = tmp_path / "report" / "index.html"
    report = run_lab("report", "--results", str(results), "--out", str(out))
    assert report.returncode == 0, report.stderr
    assert str(out) in report.stdout
    assert re.search(r"SLO (PASS|FAIL|NOT MEASURED): \d+ pass", report.stdout)
    html = out.read_text()
    assert html.count("<svg") == 2 and not EXTERNAL.search(html)
    assert "redis-benchmark" in html and "pgbench" in html
