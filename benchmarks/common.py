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
