"""asv: the reference service against the SLO. A thin wrapper over
``lab.experiments.service``; skipped when a server is down."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, tracked
from lab.experiments.service import measure, tables
from lab.patterns.monitoring import RequestCollector, RequestMetrics
from lab.patterns.monitoring_multiprocess import MultiprocessMetrics


class ServiceBehaviour(ExperimentBehaviour):
    """One quick run: the SLO lines met in the hold window, the p99, and the service's CPU
    per request at the target rate."""

    experiment = "service"

    def settings(self) -> Any:
        # asv installs the package without the project's files: the SLO is the checkout's.
        return measure.quick_settings(slo_path=Path(__file__).resolve().parents[1] / "slo.yaml")

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        cells = index_rows(tables.targets(frame), ["variant"])
        verdicts = tables.verdicts(frame)
        cells.update(index_rows(verdicts, ["variant", "metric"]))
        profile = tables.profile_summary(frame).assign(table="profile")
        cells.update(index_rows(profile, ["table", "variant", "event_loop", "switch"]))
        return cells

    def track_optimized_lines_passed(self, cells: Cells) -> float:
        return tracked(cells, ("optimized",), "lines_passed_every_repeat")

    track_optimized_lines_passed.unit = "SLO lines"  # type: ignore[attr-defined]

    def track_naive_lines_passed(self, cells: Cells) -> float:
        return tracked(cells, ("naive",), "lines_passed_every_repeat")

    track_naive_lines_passed.unit = "SLO lines"  # type: ignore[attr-defined]

    def track_optimized_p99_ms(self, cells: Cells) -> float:
        return tracked(cells, ("optimized", "latency_p99_ms"), "measured")

    track_optimized_p99_ms.unit = "ms"  # type: ignore[attr-defined]

    def track_optimized_cpu_us_per_request(self, cells: Cells) -> float:
        return tracked(cells, ("profile", "optimized", "uvloop", "none"), "cpu_us_per_request")

    track_optimized_cpu_us_per_request.unit = "us"  # type: ignore[attr-defined]


class MultiprocessMetricsCost:
    """What ``lab serve --workers N`` pays every second and before a scrape: one worker's
    request metrics (20 routes x 3 status classes) written to the multiprocess files."""

    def setup(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="lab-asv-metrics-")
        self.previous = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.folder
        metrics = RequestMetrics()
        for route in range(20):
            for status in (200, 404, 500):
                method = metrics.started("GET")
                metrics.observe(method, f"/r{route}", status, 0.003)
        self.files = MultiprocessMetrics([RequestCollector(metrics)], process_id=1)
        self.files.flush()  # the files and their slots exist, as in a running worker

    def teardown(self) -> None:
        if self.previous is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        else:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = self.previous
        shutil.rmtree(self.folder, ignore_errors=True)

    def time_flush(self) -> None:
        self.files.flush()
