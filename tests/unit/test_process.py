from __future__ import annotations

from pathlib import Path

from lab.harness.services.process import ServerProcess, log_tail
from tests.polling import eventually


def _wait_for_log(proc: ServerProcess, words: str) -> None:
    logged = eventually(lambda: words in log_tail(proc.log_file))
    assert logged, f"{words!r} never reached {proc.log_file}"


def test_spawn_records_pid_and_stop_leaves_nothing(tmp_path: Path) -> None:
    proc = ServerProcess("sleeper", tmp_path)
    process = proc.spawn(["sh", "-c", "echo started; exec sleep 60"])
    assert proc.pid() == process.pid
    _wait_for_log(proc, "started")
    assert proc.stop(timeout=5)
    process.wait(timeout=5)
    assert proc.pid() is None and not proc.pid_file.exists()
    assert "started" in log_tail(proc.log_file)
    assert proc.stop() is False  # nothing of ours runs any more


def test_a_stale_pid_file_is_ignored_and_removed(tmp_path: Path) -> None:
    proc = ServerProcess("ghost", tmp_path)
    proc.folder.mkdir(parents=True)
    process = proc.spawn(["true"])
    process.wait(timeout=5)
    assert proc.pid() is None
    assert not proc.pid_file.exists()


def test_stop_escalates_to_sigkill_when_term_is_ignored(tmp_path: Path) -> None:
    proc = ServerProcess("stubborn", tmp_path)
    process = proc.spawn(["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"])
    _wait_for_log(proc, "ready")
    pid = process.pid
    assert proc.stop(timeout=0.3)
    process.wait(timeout=5)
    assert proc.pid() is None
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
