"""asv: what the database experiment found (pool optimum, ratio to pgbench, pagination and
IN-list costs) and the time of pooled queries. Thin wrappers over
``lab.experiments.database`` and ``lab.patterns.pool``; PostgreSQL must be up."""

from __future__ import annotations

import pandas as pd

from benchmarks.common import Cells, ExperimentBehaviour, index_rows, require, tracked
from lab.config import endpoints
from lab.experiments.database import tables
from lab.harness.aio import new_runner
from lab.patterns.pool import DatabasePool


class DatabaseBehaviour(ExperimentBehaviour):
    """One quick run of the experiment."""

    experiment = "database"

    @staticmethod
    def cells(frame: pd.DataFrame) -> dict[str, Cells]:
        sizes = tables.pool_size_summary(frame)
        best = sizes[sizes.measured_best].pool_size.iloc[0]
        recommended = sizes[sizes.recommended].pool_size.iloc[0]
        return {
            "pool": {("optimum",): {"measured": best, "recommended": recommended}},
            "pgbench": index_rows(tables.vs_pgbench(frame), ["variant"]),
            "pages": index_rows(tables.pagination_summary(frame), ["page", "method"]),
        }

    def track_pool_optimum(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["pool"], ("optimum",), "measured")

    track_pool_optimum.unit = "connections"  # type: ignore[attr-defined]

    def track_pool_recommended(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["pool"], ("optimum",), "recommended")

    track_pool_recommended.unit = "connections"  # type: ignore[attr-defined]

    def track_lean_pool_vs_pgbench(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["pgbench"], ("DatabasePool lean reset=none",),
                       "ratio_vs_pgbench_simple")  # fmt: skip

    track_lean_pool_vs_pgbench.unit = "ratio"  # type: ignore[attr-defined]

    def track_offset_page_1000_ms(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["pages"], (1000, "offset"), "ms_per_page")

    track_offset_page_1000_ms.unit = "ms"  # type: ignore[attr-defined]

    def track_keyset_page_1000_ms(self, cells: dict[str, Cells]) -> float:
        return tracked(cells["pages"], (1000, "keyset"), "ms_per_page")

    track_keyset_page_1000_ms.unit = "ms"  # type: ignore[attr-defined]


class PooledQueries:
    """Time of 1,000 ``SELECT 1`` through DatabasePool, per engine and reset."""

    params = (["asyncpg", "lean"], ["full", "none"])
    param_names = ["engine", "reset"]

    def setup(self, engine: str, reset: str) -> None:
        require("postgres")
        self.runner = new_runner()
        self.pool = DatabasePool(endpoints().postgres_dsn, min_size=4, max_size=4,
                                 engine=engine, reset=reset)  # type: ignore[arg-type]  # fmt: skip
        self.runner.run(self.pool.open())

    def teardown(self, engine: str, reset: str) -> None:
        self.runner.run(self.pool.close())
        self.runner.close()

    def time_1000_queries(self, engine: str, reset: str) -> None:
        async def queries() -> None:
            for _ in range(1_000):
                await self.pool.fetchval("SELECT 1")

        self.runner.run(queries())
