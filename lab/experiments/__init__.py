"""Experiments: one package per experiment, each measuring into a tidy DataFrame.

``EXPERIMENTS`` is what ``lab run``, the report, asv and the notebooks look up, in the
order a run takes them. An experiment's package is imported when it is first looked up.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence

from lab.errors import ConfigError
from lab.experiments.experiment import Experiment

__all__ = ["EXPERIMENTS", "NAMES", "Experiment", "resolve_names"]

#: Every experiment, in the order ``lab run`` takes them.
NAMES = (
    "service",
    "baseline",
    "loadgen",
    "caching",
    "cdn",
    "database",
    "load_control",
    "messaging",
    "resilience",
)


class _Registry(Mapping[str, Experiment]):
    """The experiments by name; a package is imported on first look-up."""

    def __getitem__(self, name: str) -> Experiment:
        if name not in NAMES:
            raise KeyError(name)
        entry: Experiment = importlib.import_module(f"lab.experiments.{name}").EXPERIMENT
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


EXPERIMENTS: Mapping[str, Experiment] = _Registry()


def resolve_names(names: Sequence[str]) -> list[str]:
    """``names`` checked (every experiment when none), before anything heavy is imported:
    a misspelt name is refused at once."""
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise ConfigError(f"unknown experiment {', '.join(unknown)}; known: {', '.join(NAMES)}")
    return list(names) or list(NAMES)
