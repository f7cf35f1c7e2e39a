"""Bad input gets one clear line and a non-zero exit, never a traceback.

Most cases run ``lab`` in this process (``lab_here``); those that start workers, or
check the command as installed, run it as a process (``run_lab``)."""

from __future__ import annotations

import socket
import subprocess
import sys
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


def test_malformed_slo_file(lab_here: RunLab, tmp_path: Path) -> None:
    bad = tmp_path / "slo.yaml"
    bad.write_text("latency_p50_ms: {below: 200}\nthroughput: {above: 1}\n")
    done = lab_here("slo", str(bad))
    _one_line_error(done, 2, "line 2: unknown metric 'throughput'")


def test_run_refuses_a_malformed_slo_before_measuring(lab_here: RunLab, tmp_path: Path) -> None:
    bad = tmp_path / "slo.yaml"
    bad.write_text("cpu_percent: {below: seventy}\n")
    done = lab_here("run", "baseline", "--slo", str(bad), "--results", str(tmp_path / "r"))
    _one_line_error(done, 2, "not a number")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("run", "no-such-experiment"), "unknown experiment no-such-experiment"),
        (("services", "up", "--only", "mysql"), "--only takes"),
        (("report", "--results", "/nonexistent/results"), "no results under"),
        (("report", "--run", "/nonexistent/run"), "is not a run folder"),
    ],
)
def test_usage_errors(lab_here: RunLab, args: tuple[str, ...], words: str) -> None:
    _one_line_error(lab_here(*args), 2, words)


def test_good_slo_file_lists_targets(run_lab: RunLab) -> None:
    done = run_lab("slo")
    assert done.returncode == 0
    assert "latency_p99_ms < 1000" in done.stdout


def test_assets_build_errors(lab_here: RunLab, tmp_path: Path) -> None:
    _one_line_error(lab_here("assets", "build", str(tmp_path / "nope"), str(tmp_path / "o")),
                    2, "is not a folder")  # fmt: skip
    source = tmp_path / "src"
    source.mkdir()
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    _one_line_error(lab_here("assets", "build", str(source), str(tmp_path / "o")),
                    2, "broken.jpg is not a readable image")  # fmt: skip
    _one_line_error(lab_here("assets", "build", str(source), str(tmp_path / "o"), "--widths",
                            "480,x"), 2, "--widths")  # fmt: skip
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    (source / "broken.jpg").unlink()
    (source / "ok.txt").write_text("fine")
    _one_line_error(lab_here("assets", "build", str(source), str(mine)), 2, "no manifest.json")
    assert (mine / "keep.txt").read_text() == "mine"


def test_assets_build_writes_a_manifest(run_lab: RunLab, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "site.css").write_text("body { margin: 0 }\n" * 100)
    done = run_lab("assets", "build", str(source), str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert "site.css" in done.stdout


def test_serve_static_refuses_bad_options(lab_here: RunLab) -> None:
    _one_line_error(lab_here("serve-static", "--variant", "fast"), 2, "unknown variant 'fast'")
    _one_line_error(lab_here("serve-static", "--cdn-base-url", "https://cdn.example.com"), 2,
                    "must end with '/'")  # fmt: skip


def test_serve_names_the_server_that_is_down(lab_here: RunLab) -> None:
    done = lab_here("serve", "--port", "0", env={"LAB_POSTGRES_DSN":
                                                "postgresql://lab@127.0.0.1:1/lab"})  # fmt: skip
    _one_line_error(done, 1, "postgres is unavailable")
    assert "lab services up" in done.stderr


def test_serve_with_workers_refuses_a_port_in_use(run_lab: RunLab) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = run_lab("serve", "--workers", "2", "--port", port)
    _one_line_error(done, 2, f"cannot listen on 127.0.0.1:{port}")
    _one_line_error(run_lab("serve", "--workers", "0"), 2, "--workers")


def test_serve_refuses_an_unknown_event_loop(lab_here: RunLab) -> None:
    _one_line_error(lab_here("serve", "--loop", "trio"), 2,
                    "the event loop must be one of auto, uvloop, asyncio, not 'trio'")  # fmt: skip
    _one_line_error(lab_here("serve", "--workers", "2", "--loop", "asyncio"), 2,
                    "--loop is for one process")  # fmt: skip


def test_usage_errors_are_one_line(lab_here: RunLab) -> None:
    _one_line_error(lab_here("run", "--bogus"), 2, "No such option: --bogus")
    _one_line_error(lab_here("serve", "--pool-size", "0"), 2, "--pool-size")
    _one_line_error(lab_here("report", "--compare"), 2, "--compare")


def test_report_out_must_be_html_or_a_folder(lab_here: RunLab, tmp_path: Path) -> None:
    from lab.cli.suite import report_path

    assert report_path(tmp_path) == tmp_path / "index.html"  # an existing folder
    assert report_path(tmp_path / "rep") == tmp_path / "rep" / "index.html"  # no suffix
    assert report_path(tmp_path / "r.html") == tmp_path / "r.html"
    done = lab_here("report", "--run", "reference", "--no-screenshot", "--out",
                   str(tmp_path / "report.txt"))  # fmt: skip
    _one_line_error(done, 2, "give a folder or a file ending in .html")
    assert not (tmp_path / "report.txt").exists()


def test_experiment_names_are_checked_before_the_suite_is_imported() -> None:
    """``lab run`` refuses a misspelt name before it imports the suite (pandas, the
    drivers, the patterns: a second or more of a 2-second refusal). In a process of its
    own, unlike ``run_lab``'s, so that its modules can be read."""
    script = ("import sys\nfrom lab.cli import main\nsys.argv = ['lab', 'run', 'no-such']\n"
              "try:\n    main()\nexcept SystemExit as done:\n"
              "    print(done.code, 'lab.experiments.suite' in sys.modules)\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split() == ["2", "False"]
    assert done.stderr.startswith("lab: unknown experiment no-such;")
