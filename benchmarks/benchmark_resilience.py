"""asv: circuit-breaker cost per call and behaviour under an outage; bounded processing.

Thin wrappers over ``lab.experiments.resilience`` and ``lab.patterns``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from lab.errors import CircuitOpenError
from lab.experiments import resilience
from lab.harness.aio import new_runner
from lab.patterns.breaker import CircuitBreaker


async def _noop() -> int:
    return 200


class BreakerBehaviour:
    """One quick run of the experiment; tracks what each breaker did in the outage."""

    timeout = 900
    number = 1
    repeat = 1

    def setup_cache(self) -> dict[str, Any]:
        frame = resilience.run(quick=True)
        table = resilience.summary(frame)
        return {(row.scenario, row.variant): row._asdict() for row in table.itertuples()}

    def _get(self, cells: dict[Any, Any], scenario: str, variant: str, column: str) -> float:
        if (scenario, variant) not in cells:
            raise NotImplementedError(f"{variant} did not run")
        return float(cells[(scenario, variant)][column])

    def track_outage_calls_reaching_downstream(self, cells: dict[Any, Any]) -> float:
        return self._get(cells, "outage", "consecutive(5)", "reached_during_fault")

    track_outage_calls_reaching_downstream.unit = "calls"  # type: ignore[attr-defined]

    def track_outage_time_to_open(self, cells: dict[Any, Any]) -> float:
        return self._get(cells, "outage", "consecutive(5)", "time_to_open_s")

    track_outage_time_to_open.unit = "seconds"  # type: ignore[attr-defined]

    def track_closed_overhead_ns(self, cells: dict[Any, Any]) -> float:
        return self._get(cells, "overhead", "lab CLOSED", "overhead_ns")

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
