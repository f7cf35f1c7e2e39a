"""The result store: ``results/<UTC timestamp>-<short sha>/`` with one CSV per experiment.

Every file is written to a temporary name and renamed into place, so a run that is
interrupted keeps each experiment that finished and never a half-written file.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from lab.errors import ConfigError

__all__ = [
    "Run",
    "git_commit",
    "git_short_sha",
    "latest_run",
    "new_run",
    "stored_runs",
    "write_atomic",
]

META = "meta.json"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600; results are for reading
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def git_short_sha(cwd: Path | None = None) -> str:
    return git_commit("HEAD", cwd=cwd, short=True)


def git_commit(revision: str = "HEAD", *, cwd: Path | None = None, short: bool = False) -> str:
    """The commit a revision names (full, or git's short form), or ``nogit``."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", *(["--short"] if short else []), "--verify", "--quiet",
             f"{revision}^{{commit}}"],
            capture_output=True, text=True, cwd=cwd, check=False, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return "nogit"
    return done.stdout.strip() or "nogit"


#: A frame's file: ``lab run`` writes CSV; a committed run (``reference/``) may hold
#: it gzipped, and reads the same.
FRAME_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class Run:
    """One run's folder: frames by experiment name, and ``meta.json``."""

    path: Path

    def write_frame(self, name: str, frame: pd.DataFrame) -> Path:
        target = self.path / f"{name}.csv"
        write_atomic(target, frame.to_csv(index=False))
        return target

    def frame_file(self, name: str) -> Path | None:
        for suffix in FRAME_SUFFIXES:
            if (self.path / f"{name}{suffix}").is_file():
                return self.path / f"{name}{suffix}"
        return None

    def has_frame(self, name: str) -> bool:
        return self.frame_file(name) is not None

    def read_frame(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.frame_file(name) or self.path / f"{name}.csv")

    def frame_names(self) -> list[str]:
        return sorted({path.name.split(".")[0] for suffix in FRAME_SUFFIXES
                       for path in self.path.glob(f"*{suffix}")})  # fmt: skip

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: self.read_frame(name) for name in self.frame_names()}

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_atomic(self.path / META, json.dumps(meta, indent=2, sort_keys=True, default=str))

    def meta(self) -> dict[str, Any]:
        """``meta.json``; ``{}`` when it is missing or unreadable (a run cut short)."""
        try:
            loaded: dict[str, Any] = json.loads((self.path / META).read_text())
        except (OSError, ValueError):
            return {}
        return loaded


def stored_runs(root: Path) -> list[Run]:
    """The run folders under ``root`` (with ``meta.json`` or a result), newest first."""
    if not root.is_dir():
        return []
    return [Run(p) for p in sorted(root.iterdir(), reverse=True)
            if p.is_dir() and ((p / META).is_file() or Run(p).frame_names())]  # fmt: skip


def new_run(root: Path, now: datetime | None = None) -> Run:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    path = root / f"{stamp}-{git_short_sha()}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = root / f"{stamp}-{git_short_sha()}-{suffix}"
    path.mkdir(parents=True)
    return Run(path)


def latest_run(root: Path) -> Run:
    """The newest run that has something to report: a result, or an experiment that could
    not run (a run interrupted before either is passed over)."""
    for run in stored_runs(root):
        if run.frame_names() or run.meta().get("skipped"):
            return run
    raise ConfigError(f"no results under {root}/; run `lab run --quick` first")
