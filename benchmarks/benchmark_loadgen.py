"""asv: the lab's load generator against wrk and Locust, and its accuracy under a stall.

Thin wrappers over ``lab.experiments.loadgen``; the simulated server runs in its own
process. ``track_*`` values come from one quick run of the experiment (setup_cache).
"""

from __future__ import annotations

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, tracked
from lab.experiments.loadgen import tables
from lab.harness.aio import new_runner
from lab.harness.loadgen import LoadSettings, Schedule, run_load
from lab.harness.simulate import ServerModel, server_process


class GeneratorComparison(ExperimentBehaviour):
    """Rates and CPU per request of each generator, and what each reports for a stall."""

    experiment = "loadgen"

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        return index_rows(tables.summary(frame), ["scenario", "tool"])

    def track_lab_rate_vs_wrk(self, cells: Cells) -> float:
        return tracked(cells, ("saturation", "lab-closed"), "rate_vs_wrk")

    track_lab_rate_vs_wrk.unit = "ratio"  # type: ignore[attr-defined]

    def track_lab_cpu_vs_locust(self, cells: Cells) -> float:
        return tracked(cells, ("saturation", "lab-closed"), "cpu_vs_locust")

    track_lab_cpu_vs_locust.unit = "ratio"  # type: ignore[attr-defined]

    def track_accuracy_p50_ms(self, cells: Cells) -> float:
        return tracked(cells, ("accuracy", "lab-open"), "p50_ms")

    track_accuracy_p50_ms.unit = "ms"  # type: ignore[attr-defined]

    def track_stall_p99_open_loop_ms(self, cells: Cells) -> float:
        return tracked(cells, ("stall", "lab-open"), "p99_ms")

    track_stall_p99_open_loop_ms.unit = "ms"  # type: ignore[attr-defined]

    def track_stall_p99_closed_loop_ms(self, cells: Cells) -> float:
        return tracked(cells, ("stall", "lab-closed"), "p99_ms")

    track_stall_p99_closed_loop_ms.unit = "ms"  # type: ignore[attr-defined]


class OpenLoopCost:
    """Time of one short open-loop run (2,000 requests at 4,000 rps, 64 connections)."""

    timeout = 120

    def setup(self) -> None:
        self.server = server_process(ServerModel())
        self.url = self.server.__enter__()
        self.runner = new_runner()
        self.settings = LoadSettings(self.url, schedule=Schedule.constant(4000, 0.5))

    def teardown(self) -> None:
        self.runner.close()
        self.server.__exit__(None, None, None)

    def time_2000_requests_open_loop(self) -> None:
        self.runner.run(run_load(self.settings))
