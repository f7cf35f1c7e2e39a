"""The one loop every experiment runs through: each part, in order, once per repeat.

A part is ``part(settings, repeat) -> rows`` (a list of dicts, one per observation), or an
awaitable of rows, which the driver runs on an event loop of its own: closing it cancels
whatever the part left running (a server's handlers, a client's callbacks), so nothing
leaks into the next part. The driver reports progress the same way for every experiment
and makes the rows a DataFrame.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd

from lab.harness.aio import new_runner

__all__ = ["Part", "Progress", "Row", "chosen_settings", "drive"]

Row = dict[str, Any]
Progress = Callable[[str], None]
S = TypeVar("S")
Part = Callable[[S, int], "list[Row] | Awaitable[list[Row]]"]


def chosen_settings(kind: Any, settings: S | None, quick: bool) -> S:
    """``settings`` when given, else the kind's quick or full defaults."""
    if settings is not None:
        return settings
    made: S = kind.quick() if quick else kind()
    return made


def drive(
    name: str,
    settings: S,
    parts: Sequence[str],
    measure: Mapping[str, Part[S]],
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Run every part in ``parts`` with ``measure[part]``, ``settings.repeats`` times
    (repeat by repeat, so a slow drift in the machine touches every part alike)."""
    unknown = [part for part in parts if part not in measure]
    if unknown:
        raise ValueError(f"{name}: unknown part(s) {unknown}; known: {sorted(measure)}")
    say = progress or (lambda _: None)
    repeats: int = settings.repeats  # type: ignore[attr-defined]
    rows: list[Row] = []
    for repeat in range(repeats):
        for part in parts:
            say(f"{name}: {part.replace('_', ' ')}, repeat {repeat + 1}/{repeats}")
            made = measure[part](settings, repeat)
            if inspect.isawaitable(made):
                with new_runner() as runner:
                    made = runner.run(_rows(made))
            rows += made
    return pd.DataFrame(rows)


async def _rows(pending: Awaitable[list[Row]]) -> list[Row]:
    return await pending
