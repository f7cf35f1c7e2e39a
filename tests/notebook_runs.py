"""The notebooks that open the session's stored run, executed beside the tests that measure.

Each one starts as soon as the session has stored its experiment's frame, in a pool of two
processes on the CPU nothing else wants (SCHED_IDLE, as ``make test`` runs the unit tests),
so a notebook neither waits for the last experiment to be measured nor disturbs a
measurement."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from functools import partial
from pathlib import Path

from lab.report import notebook_pages
from lab.report.notebook_pages import execute_notebook
from tests.experiment_frames import SessionFrames

NOTEBOOKS = sorted(notebook_pages.NOTEBOOKS.glob("[0-9][0-9]_*.py"))
#: The notebook that measures live in the tests (quick); the others open the session's run.
LIVE = "00_baseline"


def experiment_of(source: Path) -> str:
    found = notebook_pages.notebook_of(source)
    assert found, f"{source.name} does not open its experiment with open_or_measure"
    return found


def _on_idle_cpu() -> None:
    """A pool process's start: run only on CPU nothing else wants (its kernels too)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux
        os.nice(19)


class StoredRunNotebooks:
    """Every notebook but the live one, each run on ``frames``' stored run once its
    experiment's frame is stored; ``executed(source)`` waits for it (measuring the frame
    first if no test has)."""

    def __init__(self, frames: SessionFrames, folder: Path) -> None:
        self._frames = frames
        self._folder = folder
        self._pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_on_idle_cpu)  # fmt: skip
        self._runs: dict[str, Future[Path]] = {}
        for source in NOTEBOOKS:
            if source.stem != LIVE:
                frames.when_stored(experiment_of(source), partial(self._start, source))

    def _start(self, source: Path) -> None:
        folder = self._folder / source.stem
        folder.mkdir()
        parameters = {"quick": True, "run": str(self._frames.run.path)}
        self._runs[source.stem] = self._pool.submit(execute_notebook, source, folder, parameters)

    def executed(self, source: Path) -> Path:
        self._frames(experiment_of(source))
        return self._runs[source.stem].result()

    def shutdown(self) -> None:
        self._pool.shutdown(cancel_futures=True)
