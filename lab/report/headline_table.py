"""The README's table: each experiment's headline figures from its newest stored run."""

from __future__ import annotations

from pathlib import Path

from lab.errors import ConfigError
from lab.experiments import EXPERIMENTS
from lab.harness.results import Run, stored_runs
from lab.report.headlines import Headline, headlines

__all__ = ["headline_markdown", "newest_headlines", "run_headlines"]


def newest_headlines(results: Path, *, quick: bool) -> list[tuple[str, list[Headline]]]:
    """``(run folder name, headlines)`` per experiment, from the newest run (full or quick
    as asked) that holds the experiment's results; experiments without one are left out."""
    if not results.is_dir():
        raise ConfigError(f"{results} is not a folder of results: run `lab run` first")
    found = []
    kind = [run for run in stored_runs(results) if bool(run.meta().get("quick")) == quick]
    for name in EXPERIMENTS:
        newest = next((run for run in kind if run.has_frame(name)), None)
        if newest is not None:
            found.append((newest.path.name, _headlines_of(newest, name)))
    return found


def run_headlines(run: Run) -> list[tuple[str, list[Headline]]]:
    """``(run folder name, headlines)`` per experiment stored in one run (``reference/``)."""
    return [(run.path.name, _headlines_of(run, name)) for name in EXPERIMENTS
            if run.has_frame(name)]  # fmt: skip


def _headlines_of(run: Run, name: str) -> list[Headline]:
    return headlines(name, EXPERIMENTS[name].tables(run.read_frame(name)))


def headline_markdown(results: Path, *, quick: bool = False, run: Run | None = None) -> str:
    """The table from the newest runs under ``results`` (full or quick), or from ``run``."""
    rows = ["| experiment | headline figure | median [min-max], repeats | run |",
            "|---|---|---|---|"]  # fmt: skip
    found = run_headlines(run) if run is not None else newest_headlines(results, quick=quick)
    for name, picked in found:
        for headline in picked:
            peer = f" (against {headline.peer})" if headline.peer else ""
            rows.append(f"| `{headline.experiment}` | {headline.label}{peer} | "
                        f"{headline.text()} | `{name}` |")  # fmt: skip
    if len(rows) == 2 and run is not None:
        raise ConfigError(f"{run.path} holds no experiment's results")
    if len(rows) == 2:
        kind = "quick" if quick else "full"
        raise ConfigError(f"no {kind} run in {results} holds an experiment's results")
    return "\n".join(rows)
