"""asv: circuit-breaker cost per call and behaviour under an outage; bounded processing.

Thin wrappers over ``lab.experiments.resilience`` and ``lab.patterns``.
"""

from __future__ import annotations

import contextlib

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, tracked
from lab.errors import CircuitOpenError
from lab.experiments.resilience import tables
from lab.harness.aio import new_runner
from lab.patterns.breaker import CircuitBreaker
from lab.patterns.concurrency import bounded_map


async def _noop() -> int:
    return 200


class BreakerBehaviour(ExperimentBehaviour):
    """One quick run of the experiment; tracks what each breaker did in the outage."""

    experiment = "resilience"

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        return index_rows(tables.summary(frame), ["scenario", "variant"])

    def track_outage_calls_reaching_downstream(self, cells: Cells) -> float:
        return tracked(cells, ("outage", "consecutive(5)"), "reached_during_fault")

    track_outage_calls_reaching_downstream.unit = "calls"  # type: ignore[attr-defined]

    def track_outage_time_to_open(self, cells: Cells) -> float:
        return tracked(cells, ("outage", "consecutive(5)"), "time_to_open_s")

    track_outage_time_to_open.unit = "seconds"  # type: ignore[attr-defined]

    def track_outage_time_to_recover(self, cells: Cells) -> float:
        """From the downstream's recovery to the breaker's first successful call."""
        return tracked(cells, ("outage", "consecutive(5)"), "time_to_recover_s")

    track_outage_time_to_recover.unit = "seconds"  # type: ignore[attr-defined]

    def track_closed_overhead_ns(self, cells: Cells) -> float:
        return tracked(cells, ("overhead", "lab CLOSED"), "overhead_ns")

    track_closed_overhead_ns.unit = "ns"  # type: ignore[attr-defined]


class BreakerCost:
    """Time of 10,000 calls through a CLOSED breaker, and of 10,000 rejections."""

    def setup(self) -> None:
        self.runner = new_runner()
        self.closed = CircuitBreaker()
        self.opened = CircuitBreaker()
        self.opened.force_open()

    def teardown(self) -> None:
        self.runner.close()

    def time_10000_closed_calls(self) -> None:
        async def calls() -> None:
            for _ in range(10_000):
                await self.closed.call(_noop)

        self.runner.run(calls())

    def time_10000_rejections(self) -> None:
        async def calls() -> None:
            for _ in range(10_000):
                with contextlib.suppress(CircuitOpenError):
                    await self.opened.call(_noop)

        self.runner.run(calls())


async def _echo(item: int) -> int:
    return item


class BoundedCost:
    """Peak memory of bounded_map over 50,000 items with 100 in flight (the experiment
    compares it with gathering one task per item)."""

    def setup(self) -> None:
        self.runner = new_runner()

    def teardown(self) -> None:
        self.runner.close()

    def peakmem_bounded_map_50000_items(self) -> None:
        async def drain() -> None:
            async for _ in bounded_map(_echo, range(50_000), limit=100):
                pass

        self.runner.run(drain())
