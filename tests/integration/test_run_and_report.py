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
    # one repeat: this tests lab run and lab report, not the baseline's figures
    done = run_lab("run", "baseline", "--quick", "--repeats", "1", "--results", str(results))
    assert done.returncode == 0, done.stderr
    (run,) = list(results.iterdir())
    assert sorted(p.name for p in run.iterdir()) == ["baseline.csv", "meta.json"]
    meta = json.loads((run / "meta.json").read_text())
    assert meta["finished"] == ["baseline"] and meta["quick"] is True and meta["repeats"] == 1
    assert set(meta["durations_s"]) == {"baseline"} and meta["skipped"] == {}
    assert "baseline took" in done.stderr
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
    # checked in Chromium (no console error, no broken image), its top pictured beside it
    assert "checked in Chromium" in report.stdout
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert "No results: not part of this run: `lab run caching` measures it." in html
    assert html.index("Service-level objectives") < html.index("Headline figures")
    assert "redis-py GET, 32 concurrent / redis-benchmark" in html  # a headline, with peer

    again = run_lab("report", "--results", str(results), "--out", str(out), "--compare",
                    run.name, "--no-screenshot", "--fail-on-regression")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert re.search(r"0 regression, 0 improvement, 0 changed, (\d+) within noise",
                     again.stdout.replace("\n", " "))  # fmt: skip


def test_an_experiment_whose_server_is_down_is_recorded_and_the_run_goes_on(
    run_lab: RunLab, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    done = run_lab("run", "baseline", "--quick", "--results", str(results),
                   env={"LAB_REDIS_URL": "redis://127.0.0.1:1/0"})  # fmt: skip
    assert done.returncode == 1
    assert "1 of 1 experiments did not run: baseline" in done.stderr
    assert "Traceback" not in done.stderr
    (run,) = list(results.iterdir())
    meta = json.loads((run / "meta.json").read_text())
    assert meta["finished"] == [] and "redis is unavailable" in meta["skipped"]["baseline"]
    out = tmp_path / "index.html"
    report = run_lab("report", "--results", str(results), "--out", str(out), "--no-screenshot")
    assert report.returncode == 0, report.stderr
    assert "No results: did not run: redis is unavailable" in out.read_text()
