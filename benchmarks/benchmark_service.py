"""asv: the reference service against the SLO. A thin wrapper over
``lab.experiments.service``; skipped when a server is down."""

from __future__ import annotations

import pandas as pd

from benchmarks.common import Cells, index_rows, require, tracked
from lab.experiments import service, service_tables


class ServiceBehaviour:
    """One quick run: the SLO lines met in the hold window, and the largest rate."""

    timeout = 900
    number = 1
    repeat = 1

    def setup_cache(self) -> Cells:
        for name in service.SERVICES:
            require(name)
        return self.cells(service.run(quick=True))

    @staticmethod
    def cells(frame: pd.DataFrame) -> Cells:
        cells = index_rows(service_tables.targets(frame), ["variant"])
        verdicts = service_tables.verdicts(frame)
        cells.update(index_rows(verdicts, ["variant", "metric"]))
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
