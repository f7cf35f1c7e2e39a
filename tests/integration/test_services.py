"""`lab services` against real servers: reuse, status, SIGKILL and restart, clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

RunLab = Callable[..., subprocess.CompletedProcess[str]]


def _rows(stdout: str) -> dict[str, list[str]]:
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line) if cell.strip()]
        if cells and cells[0] in {"redis", "postgres", "kafka", "prometheus"}:
            rows[cells[0]] = cells
    return rows


def test_status_of_the_running_servers(run_lab: RunLab, all_up: None, prometheus_up: None
                                       ) -> None:  # fmt: skip
    done = run_lab("services", "status")
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert set(rows) == {"redis", "postgres", "kafka", "prometheus"}
    assert all("healthy" in row for row in rows.values())


def test_up_again_reuses_healthy_servers(run_lab: RunLab, all_up: None, prometheus_up: None
                                         ) -> None:  # fmt: skip
    before = _rows(run_lab("services", "status").stdout)
    done = run_lab("services", "up")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("reused") == 4
    assert _rows(done.stdout) == before


@pytest.fixture
def own_lab() -> Iterator[dict[str, str]]:
    """A second set of servers on other ports, with a home every user may enter."""
    home = Path(tempfile.mkdtemp(prefix="lab-it-", dir="/tmp"))
    home.chmod(0o755)
    env = {
        "LAB_HOME": str(home),
        "LAB_REDIS_URL": "redis://127.0.0.1:16379/0",
        "LAB_POSTGRES_DSN": "postgresql://lab@127.0.0.1:15432/lab",
        "LAB_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
        "LAB_PROMETHEUS_URL": "http://127.0.0.1:19090",
    }
    yield env
    subprocess.run(
        ["python", "-m", "lab.cli", "services", "down"],
        env={**os.environ, **env}, capture_output=True, check=False,
    )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_lifecycle_up_kill_status_up_down(run_lab: RunLab, own_lab: dict[str, str]) -> None:
    up = run_lab("services", "up", env=own_lab)
    assert up.returncode == 0, up.stderr
    rows = _rows(up.stdout)
    assert {row[2] for row in rows.values()} == {"lab/native"}
    pids = {name: int(row[3]) for name, row in rows.items()}

    os.kill(pids["redis"], signal.SIGKILL)
    status = run_lab("services", "status", env=own_lab)
    assert status.returncode == 1
    assert "redis is not answering at 127.0.0.1:16379" in status.stderr
    assert "healthy" in _rows(status.stdout)["postgres"]

    again = run_lab("services", "up", env=own_lab)
    assert again.returncode == 0, again.stderr
    revived = _rows(again.stdout)
    assert "healthy" in revived["redis"] and int(revived["redis"][3]) != pids["redis"]
    assert int(revived["kafka"][3]) == pids["kafka"]  # untouched

    down = run_lab("services", "down", env=own_lab)
    assert down.returncode == 0
    assert "redis, postgres, kafka, prometheus" in down.stdout
    for pid in [*pids.values(), int(revived["redis"][3])]:
        assert not _alive(pid), f"process {pid} is still running"
    gone = run_lab("services", "status", env=own_lab)
    assert gone.returncode == 1
    assert all(row[2] == "-" for row in _rows(gone.stdout).values())
