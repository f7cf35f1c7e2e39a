"""Detached server processes tracked by pid files under the lab's home folder."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ServerProcess", "log_tail"]


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log written)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(log is empty)"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); read its state to be sure it is running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


#: The servers this process spawned, by pid file: stopping or killing one reaps it here,
#: even when another process (``lab services down``) stopped it.
_SPAWNED: dict[Path, subprocess.Popen[bytes]] = {}


class ServerProcess:
    """One server the lab started: its folder, log and pid file."""

    def __init__(self, name: str, home: Path) -> None:
        self.name = name
        self.folder = home / name
        self.pid_file = self.folder / "pid"
        self.log_file = self.folder / f"{name}.log"

    def pid(self) -> int | None:
        """The pid of our running server, or None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if _pid_alive(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in its own session, logging to our log file, and record its pid."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                env=env,
                cwd=cwd,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        _SPAWNED[self.pid_file] = process
        return process

    def _reap_spawned(self) -> None:
        """Reap our own child once it has exited (no zombie, no ResourceWarning)."""
        spawned = _SPAWNED.get(self.pid_file)
        if spawned is not None and spawned.poll() is not None:
            del _SPAWNED[self.pid_file]

    def kill(self) -> bool:
        """SIGKILL our server, as a crashed host would. False if none ran."""
        return self.stop(signal.SIGKILL, timeout=30.0)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30.0) -> bool:
        """Stop our server (``sig``, then SIGKILL after ``timeout``). False if none ran."""
        pid = self.pid()
        if pid is None:
            self._reap_spawned()
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _pid_alive(pid):
                _reap(pid)
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        self._reap_spawned()
        return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
