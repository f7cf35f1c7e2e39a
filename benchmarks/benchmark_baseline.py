"""asv: round trips to Redis, PostgreSQL and Kafka from Python, against the native tools.

Thin wrappers: every number comes from ``lab.experiments.baseline``. A service that is
down makes its benchmarks skip (NotImplementedError in setup, as asv expects).
Run with ``asv run --python=same --quick`` from the venv.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, require, tracked
from lab.experiments.baseline import measure, tables
from lab.harness.aio import new_runner

CELLS = [
    f"{service} {operation}"
    for service, operations in measure.OPERATIONS.items()
    for operation in operations
]
CONCURRENCIES = [1, 32]


class PythonVsNative(ExperimentBehaviour):
    """Python client throughput as a share of the native tool's, measured in one run."""

    experiment = "baseline"
    params = (CELLS, CONCURRENCIES)
    param_names = ["cell", "concurrency"]

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        return index_rows(tables.ratios(frame), ["service", "operation", "concurrency"])

    def _value(self, cells: Cells, cell: str, concurrency: int, column: str) -> float:
        service, operation = cell.split()
        return tracked(cells, (service, operation, concurrency), column)

    def track_python_to_native_ratio(self, cells: Cells, cell: str, concurrency: int) -> float:
        return self._value(cells, cell, concurrency, "ratio")

    track_python_to_native_ratio.unit = "ratio"  # type: ignore[attr-defined]

    def track_python_ops_per_second(self, cells: Cells, cell: str, concurrency: int) -> float:
        return self._value(cells, cell, concurrency, "python_ops_s")

    track_python_ops_per_second.unit = "ops/s"  # type: ignore[attr-defined]

    def track_python_p99_ms(self, cells: Cells, cell: str, concurrency: int) -> float:
        return self._value(cells, cell, concurrency, "p99_ms")

    track_python_p99_ms.unit = "ms"  # type: ignore[attr-defined]


class RoundTrips:
    """Time of 200 round trips of one operation, spread over the workers."""

    params = (CELLS, CONCURRENCIES)
    param_names = ["cell", "concurrency"]
    timeout = 300

    def setup(self, cell: str, concurrency: int) -> None:
        service, self.operation = cell.split()
        require(service)
        self.runner = new_runner()
        self.session = measure.session(service, concurrency)
        if service == "postgres":
            measure.ensure_pgbench_tables(self.session.ep)
        self.runner.run(self.session.open())
        self.concurrency = concurrency

    def teardown(self, cell: str, concurrency: int) -> None:
        self.runner.run(self.session.close())
        self.runner.close()

    def time_200_round_trips(self, cell: str, concurrency: int) -> None:
        operation = self.session.ops[self.operation]
        self.runner.run(measure.run_batch(operation, 200, self.concurrency))
