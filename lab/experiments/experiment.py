"""What an experiment declares: its question, the servers it needs, how to read it and
which figures are its headlines. The measurement, the tables and the plots live in the
experiment's package (``measure``, ``tables``, ``figures``) and are imported only when
used, so a worker process that imports one module of a package pays for nothing else.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lab.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["Experiment", "HeadlineSpec", "headline"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class HeadlineSpec:
    """One headline figure: the cell of a report table found by the start of its caption,
    the values of some of its row's keys (``where``) and its column."""

    label: str
    caption: str  # the start of the table's caption ("" matches any)
    where: Mapping[str, Any]
    column: str
    peer: str | None = None
    #: The row to divide by (same table and column): the headline is then a ratio of two
    #: medians of the same repeats, its range the extremes divided (wider than either's).
    over: Mapping[str, Any] | None = None
    #: What an empty cell (NaN) means, said instead of a number: "did not settle within
    #: the run". Without it, an empty cell reads "not measured in this run".
    missing: str = ""
    #: What a run without the row says: "not run (start it with ...)". Without it, the
    #: headline says its part or case was left out.
    not_run: str = ""
    #: What a figure of 0 in every repeat means, said instead of 0 where 0 is not a
    #: measurement: "none: it failed a line at the lowest rate probed".
    zero: str = ""


def headline(
    label: str,
    caption: str,
    column: str,
    peer: str | None = None,
    over: Mapping[str, Any] | None = None,
    missing: str = "",
    not_run: str = "",
    zero: str = "",
    **where: Any,
) -> HeadlineSpec:
    return HeadlineSpec(label, caption, where, column, peer, over, missing, not_run, zero)


@dataclass(frozen=True)
class Experiment:
    """An experiment's entry. ``lab.experiments.<name>.measure.run`` measures,
    ``.tables`` declares its report tables (``TABLES``) and ``.figures`` draws it."""

    name: str
    title: str
    question: str
    services: tuple[str, ...]
    reading: str
    headlines: tuple[HeadlineSpec, ...] = field(default=())

    def module(self, part: str) -> ModuleType:
        return importlib.import_module(f"lab.experiments.{self.name}.{part}")

    def run(
        self,
        *,
        quick: bool = False,
        settings: Any = None,
        progress: Progress | None = None,
        repeats: int | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Measure. ``repeats`` overrides the settings' (quick or full) number of repeats:
        comparing two runs needs enough of them (``lab report --compare``). ``changes``
        replaces other settings by name (``{"images": 8}``); a list given for a tuple
        setting becomes a tuple."""
        updates = dict(changes or {}) | ({} if repeats is None else {"repeats": repeats})
        if updates:
            base = settings if settings is not None else self.default_settings(quick=quick)
            settings = dataclasses.replace(base, **self.checked_changes(base, updates))
        measure = self.module("measure")
        frame: pd.DataFrame = measure.run(quick=quick, settings=settings, progress=progress)
        return frame

    def default_settings(self, *, quick: bool) -> Any:
        """The settings a run without changes measures with: quick or full."""
        kind = type(self.module("measure").quick_settings())
        return kind.quick() if quick else kind()

    def setting_names(self) -> list[str]:
        """The names ``changes`` may set (the fields of its settings)."""
        return [f.name for f in dataclasses.fields(self.default_settings(quick=True))]

    def checked_changes(self, base: Any, updates: dict[str, Any]) -> dict[str, Any]:
        names = [f.name for f in dataclasses.fields(base)]
        unknown = sorted(set(updates) - set(names))
        if unknown:
            raise ConfigError(f"{self.name} has no setting {', '.join(map(repr, unknown))}; "
                              f"its settings: {', '.join(names)}")  # fmt: skip
        if updates.get("repeats", 1) < 1:
            raise ConfigError(f"repeats must be at least 1, not {updates['repeats']}")
        return {name: tuple(value) if isinstance(getattr(base, name), tuple)
                and isinstance(value, list) else value
                for name, value in updates.items()}  # fmt: skip

    def tables(self, frame: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """The captioned tables of the report, in order; those with no rows left out."""
        from lab.experiments.tables import report_tables

        return report_tables(frame, self.module("tables").TABLES)

    def figures(self, frame: pd.DataFrame) -> list[Figure]:
        drawn: list[Figure] = self.module("figures").figures(frame)
        return drawn

    def slo_metrics(self, frame: pd.DataFrame) -> dict[str, float]:
        """The SLO metrics this experiment measures (none for most)."""
        measured = getattr(self.module("tables"), "slo_metrics", None)
        return {} if measured is None else dict(measured(frame))

    def slo_sources(self) -> dict[str, str]:
        """Where this experiment measures each SLO metric it measures."""
        return dict(getattr(self.module("tables"), "SLO_SOURCES", {}))
