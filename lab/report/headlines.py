"""Each experiment's headline figures: the few cells of its report tables a reader looks
for first (the README's table, the top of the report, ``lab headlines``).

A headline names a cell (:mod:`lab.report.cells`) by the start of its table's
caption, some of its row's key, and its column; it carries the cell's median, spread and
repeats, so it is never quoted without them. ``peer`` names the tool it is measured
against, for the report's comparison with peers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from lab.experiments import EXPERIMENTS
from lab.experiments.experiment import HeadlineSpec
from lab.report.cells import Cell, cells

__all__ = ["NOT_RUN", "Headline", "headlines"]

#: What a headline says when its run left out the part or case that measures it.
NOT_RUN = "not measured in this run (its part or case was left out)"


@dataclass(frozen=True)
class Headline:
    experiment: str
    label: str
    cell: Cell
    peer: str | None = None
    missing: str = ""
    zero: str = ""

    def text(self) -> str:
        """The figure with its spread and repeats (a table without a spread for it: the
        figure over its repeats, as the table states it); never a bare NaN: an empty cell
        says what it means."""
        c = self.cell
        if not c.runs:
            return self.missing or NOT_RUN
        if math.isnan(c.value):
            return f"{self.missing or 'not measured in this run'}, {c.runs} runs"
        if self.zero and c.value == 0 and all(math.isnan(v) or v == 0 for v in (c.low, c.high)):
            return f"{self.zero}, {c.runs} runs"
        if math.isnan(c.low) or math.isnan(c.high):
            return f"{_number(c.value)}, {c.runs} runs"
        return f"{_number(c.value)} [{_number(c.low)}-{_number(c.high)}], {c.runs} runs"


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _matches(spec: HeadlineSpec, cell: Cell) -> bool:
    row = dict(cell.row)
    return (cell.column == spec.column and cell.caption.startswith(spec.caption)
            and all(row.get(name) == value for name, value in spec.where.items()))  # fmt: skip


def _plain_cell(experiment: str, spec: HeadlineSpec, tables: list[tuple[str, pd.DataFrame]],
                repeats: int) -> Cell | None:  # fmt: skip
    """A figure the table states without a spread (a median, or a count over repeats);
    ``repeats`` for a table that does not say how many."""
    for caption, table in tables:
        if not caption.startswith(spec.caption) or spec.column not in table:
            continue
        rows = table
        for name, value in spec.where.items():
            rows = rows[rows[name] == value] if name in rows else rows.iloc[0:0]
        if len(rows) == 1:
            row = rows.iloc[0]
            runs = int(row["runs"]) if "runs" in row else repeats
            return Cell(experiment, caption, tuple(spec.where.items()), spec.column,
                        float(row[spec.column]), math.nan, math.nan, runs)  # fmt: skip
    return None


def _find(experiment: str, spec: HeadlineSpec, found: list[Cell],
          tables: list[tuple[str, pd.DataFrame]]) -> Cell | None:  # fmt: skip
    match = next((cell for cell in found if _matches(spec, cell)), None)
    if match is None:
        repeats = max((cell.runs for cell in found), default=1)
        match = _plain_cell(experiment, spec, tables, repeats)
    return match


def _ratio(top: Cell, bottom: Cell) -> Cell | None:
    if not bottom.value or not bottom.low:
        return None
    return Cell(top.experiment, top.caption, top.row, f"{top.column} ratio",
                top.value / bottom.value, top.low / bottom.high if bottom.high else math.nan,
                top.high / bottom.low, min(top.runs, bottom.runs))  # fmt: skip


def headlines(experiment: str, tables: list[tuple[str, pd.DataFrame]]) -> list[Headline]:
    """The experiment's headlines found in these tables, each declared one present: one
    whose part or case the run left out says so instead of a figure. No tables (the
    experiment did not run), no headlines."""
    found = cells(experiment, tables)
    picked = []
    specs = EXPERIMENTS[experiment].headlines if experiment in EXPERIMENTS else ()
    for spec in specs:
        match = _find(experiment, spec, found, tables)
        if match is not None and spec.over is not None:
            bottom = _find(experiment, replace(spec, where=spec.over, over=None), found, tables)
            match = _ratio(match, bottom) if bottom is not None else None
        if match is not None:
            picked.append(Headline(experiment, spec.label, match, spec.peer, spec.missing,
                                   spec.zero))  # fmt: skip
        elif tables:
            absent = Cell(experiment, spec.caption, tuple(spec.where.items()), spec.column,
                          math.nan, math.nan, math.nan, 0)  # fmt: skip
            picked.append(Headline(experiment, spec.label, absent, spec.peer,
                                   spec.not_run or NOT_RUN))  # fmt: skip
    return picked
