"""asv: adaptive concurrency limits (convergence, overload p99) and what the limiter and the
request metrics cost. Thin wrappers over ``lab.experiments.load_control`` and
``lab.patterns``."""

from __future__ import annotations

import asyncio

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, tracked
from lab.experiments.load_control import tables
from lab.harness.aio import new_runner
from lab.patterns.limit_algorithms import Gradient2
from lab.patterns.limiter import AdaptiveLimiter
from lab.patterns.monitoring import RequestMetrics


class LimiterBehaviour(ExperimentBehaviour):
    """One quick run of the experiment: where the limits settle, and what callers wait."""

    experiment = "load_control"

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        cells = index_rows(tables.convergence_summary(frame), ["scenario", "variant"])
        cells.update(index_rows(tables.monitoring_summary(frame),
                                ["stack", "variant"]))  # fmt: skip
        return cells

    def track_step_settle_s(self, cells: Cells) -> float:
        return tracked(cells, ("step", "vegas"), "settle_s")

    track_step_settle_s.unit = "seconds"  # type: ignore[attr-defined]

    def track_step_steady_error(self, cells: Cells) -> float:
        return tracked(cells, ("step", "vegas"), "steady_error")

    track_step_steady_error.unit = "share of C"  # type: ignore[attr-defined]

    def track_step_p99_ratio(self, cells: Cells) -> float:
        return tracked(cells, ("step", "vegas"), "p99_ratio")

    track_step_p99_ratio.unit = "x light-load p99"  # type: ignore[attr-defined]

    def track_drop_steady_error_gradient2(self, cells: Cells) -> float:
        return tracked(cells, ("drop", "gradient2"), "steady_error")

    track_drop_steady_error_gradient2.unit = "share of C"  # type: ignore[attr-defined]

    def track_aiohttp_metrics_added_cpu(self, cells: Cells) -> float:
        return tracked(cells, ("aiohttp", "metrics middleware"), "added_cpu_percent")

    track_aiohttp_metrics_added_cpu.unit = "percent"  # type: ignore[attr-defined]

    def track_aiohttp_metrics_access_log_added_cpu(self, cells: Cells) -> float:
        return tracked(cells, ("aiohttp", "metrics access log"), "added_cpu_percent")

    track_aiohttp_metrics_access_log_added_cpu.unit = "percent"  # type: ignore[attr-defined]

    def track_aiohttp_metrics_server_handler_added_cpu(self, cells: Cells) -> float:
        return tracked(cells, ("aiohttp", "metrics server handler"), "added_cpu_percent")

    track_aiohttp_metrics_server_handler_added_cpu.unit = "percent"  # type: ignore[attr-defined]


class LimiterCost:
    """10,000 uncontended ``async with`` through the limiter, beside asyncio.Semaphore; and
    10,000 request observations."""

    def setup(self) -> None:
        self.runner = new_runner()
        self.limiter = AdaptiveLimiter(Gradient2(20, min_limit=1))
        self.semaphore = asyncio.Semaphore(8)
        self.metrics = RequestMetrics()

    def teardown(self) -> None:
        self.runner.close()

    def time_10000_limiter_entries(self) -> None:
        async def entries() -> None:
            for _ in range(10_000):
                async with self.limiter:
                    pass

        self.runner.run(entries())

    def time_10000_semaphore_entries(self) -> None:
        async def entries() -> None:
            for _ in range(10_000):
                async with self.semaphore:
                    pass

        self.runner.run(entries())

    def time_10000_request_observations(self) -> None:
        metrics = self.metrics
        for _ in range(10_000):
            method = metrics.started("GET")
            metrics.observe(method, "/api/users/{id}", 200, 0.012)
