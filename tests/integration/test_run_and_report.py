"""`lab run` then `lab report`, as `make lab` does them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from tests.conftest import LAB, ROOT
from tests.polling import eventually, running

RunLab = Callable[..., subprocess.CompletedProcess[str]]
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""")


def _interrupted_run(results: Path, first: str, then: str, *changes: str) -> tuple[int, str]:
    """``lab run first then --quick --repeats 1 [--set ...]``, Ctrl-C (SIGINT) once
    ``first``'s CSV is stored, as a user would stop it: its exit status and stderr."""
    command = [*LAB, "run", first, then, "--quick", "--repeats", "1", "--results", str(results)]
    command += [arg for change in changes for arg in ("--set", change)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env={**os.environ, "COLUMNS": "200"}) as lab:  # fmt: skip

        def stored() -> bool:
            return bool(list(results.glob(f"*/{first}.csv")))

        eventually(lambda: stored() or lab.poll() is not None, polls=3000, every_s=0.1)
        assert stored() and lab.poll() is None, f"{first} was not stored while lab ran"
        time.sleep(1.0)  # into the second experiment
        lab.send_signal(signal.SIGINT)
        _, stderr = lab.communicate(timeout=120)
    return lab.returncode, stderr


def test_a_terminated_run_stops_the_servers_it_started(tmp_path: Path) -> None:
    """SIGTERM (a CI job's timeout, ``kill``) ends ``lab run`` as Ctrl-C does: the
    simulated servers its experiment started stop with it, and the run says where it was."""
    results = tmp_path / "results"
    command = [*LAB, "run", "loadgen", "--quick", "--repeats", "1", "--results", str(results)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env={**os.environ, "COLUMNS": "200"}) as lab:  # fmt: skip
        children: list[psutil.Process] = []

        def serving() -> bool:
            children[:] = psutil.Process(lab.pid).children(recursive=True)
            # a simulated server, not the git call that names the run before it starts
            return any("simulate" in _command(child) for child in children) or (
                lab.poll() is not None
            )

        eventually(serving, polls=600, every_s=0.1)
        assert children and lab.poll() is None, "lab run started no server"
        lab.send_signal(signal.SIGTERM)
        _, stderr = lab.communicate(timeout=120)
    assert lab.returncode == 130, stderr
    assert "interrupted during loadgen" in stderr
    assert not [child for child in children if running(child)]
    (run,) = list(results.iterdir())
    assert json.loads((run / "meta.json").read_text())["interrupted"] == "loadgen"


def _command(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


def test_run_interrupted_keeps_what_finished_and_report_renders_it(
    run_lab: RunLab, all_up: None, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    # one short repeat: this tests lab run and lab report, not the baseline's figures;
    # no Kafka (its Java tools' JVMs were a third of the experiment's time)
    status, stderr = _interrupted_run(
        results, "baseline", "loadgen", "baseline.duration_s=0.2", "baseline.concurrencies=[1, 32]",
        "baseline.redis_native_requests=2000", "baseline.services=[redis, postgres]",
    )  # fmt: skip
    assert status == 130, stderr
    assert "baseline took" in stderr and "interrupted during loadgen; kept: baseline" in stderr
    (run,) = list(results.iterdir())
    assert sorted(p.name for p in run.iterdir()) == ["baseline.csv", "meta.json"]
    meta = json.loads((run / "meta.json").read_text())
    assert meta["finished"] == ["baseline"] and meta["quick"] is True and meta["repeats"] == 1
    assert meta["interrupted"] == "loadgen"
    assert meta["changes"] == {"baseline": {
        "duration_s": 0.2, "concurrencies": [1, 32], "redis_native_requests": 2000,
        "services": ["redis", "postgres"]}}  # fmt: skip
    assert set(meta["durations_s"]) == {"baseline"} and meta["skipped"] == {}
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
    assert "interrupted (Ctrl-C) before it finished: `lab run loadgen`" in html
    assert html.index("Service-level objectives") < html.index("Headline figures")
    assert "redis-py GET, 32 concurrent / redis-benchmark" in html  # a headline, with peer
    # the baseline's notebook executed on this run, beside the report, offline, checked too
    page = out.parent / "notebooks" / "00_baseline.html"
    assert 'href="notebooks/00_baseline.html"' in html
    assert "notebooks executed on this run: 1 pages" in report.stdout
    assert "and 1 notebook pages" in report.stdout
    notebook = page.read_text()
    assert not EXTERNAL.search(notebook) and "<script src=" not in notebook
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in notebook
    assert re.search(r'<img [^>]*src="data:image/png;base64,', notebook)  # its figure, inline

    again = run_lab("report", "--results", str(results), "--out", str(out), "--compare",
                    run.name, "--no-screenshot", "--no-notebooks",
                    "--fail-on-regression")  # fmt: skip
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
    report = run_lab("report", "--results", str(results), "--out", str(out), "--no-screenshot",
                     "--no-notebooks")  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "No results: did not run: redis is unavailable" in out.read_text()
