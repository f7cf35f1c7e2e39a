"""What the asv suites share: turning an experiment's summary table into tracked values."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import pandas as pd

Cells = dict[Hashable, dict[str, Any]]


def index_rows(table: pd.DataFrame, keys: Sequence[str]) -> Cells:
    """The summary's rows by the values of ``keys`` (a tuple), for setup_cache to return."""
    return {
        tuple(row[key] for key in keys): row
        for row in table.astype(object).where(table.notna(), None).to_dict("records")
    }


def require(service: str) -> None:
    """Skip the benchmark (asv's NotImplementedError) when ``service`` is not answering."""
    from lab.config import endpoints
    from lab.harness.services import probe

    if not probe(service, endpoints()).healthy:
        raise NotImplementedError(
            f"{service} is down; start it with `lab services up --only {service}`"
        )


def tracked(cells: Cells, key: tuple[Any, ...], column: str) -> float:
    """One value to track; a row the run did not produce makes asv skip the benchmark."""
    if key not in cells:
        raise NotImplementedError(f"{' '.join(map(str, key))} did not run (not installed?)")
    value = cells[key].get(column)
    return float("nan") if value is None else float(value)


class ExperimentBehaviour:
    """One quick run of an experiment, its frame turned into cells by ``cells(frame)``;
    each ``track_*`` of a subclass reads one cell. The servers the experiment needs must
    answer, or asv skips the suite."""

    experiment: str  # its name in lab.experiments.EXPERIMENTS
    timeout = 900
    number = 1
    repeat = 1

    def settings(self) -> Any:
        """The settings to run with; ``None``: the experiment's quick settings."""
        return None

    def setup_cache(self) -> Any:
        from lab.experiments import EXPERIMENTS

        entry = EXPERIMENTS[self.experiment]
        for service in entry.services:
            require(service)
        return self.cells(entry.run(quick=True, settings=self.settings()))

    @staticmethod
    def cells(frame: pd.DataFrame) -> Any:
        raise NotImplementedError
