"""The README's table: each experiment's headline figures from its newest stored run."""

from __future__ import annotations

from pathlib import Path

from lab.errors import ConfigError
from lab.experiments import EXPERIMENTS
from lab.report.headlines import Headline, headlines
from lab.harness.results import stored_runs

__all__ = ["headline_markdown", "newest_headlines"]


def newest_headlines(results: Path, *, quick: bool) -> list[tuple[str, list[Headline]]]:
    """``(run folder name, headlines)`` per experiment, from the newest run (full or quick
    as asked) that holds the experiment's results; experiments without one are left out."""
    if not results.is_dir():
        raise ConfigError(f"{results} is not a folder of results: run `lab run` first")
    found = []
    runs = stored_runs(results)
    for name, experiment in EXPERIMENTS.items():
        for run in runs:
            if bool(run.meta().get("quick")) != quick or not run.has_frame(name):
                continue
            frame = run.read_frame(name)
            found.append((run.path.name, headlines(name, experiment.tables(frame))))
            break
    return found


def headline_markdown(results: Path, *, quick: bool = False) -> str:
    rows = ["| experiment | headline figure | median [min-max], repeats | run |",
            "|---|---|---|---|"]  # fmt: skip
    for run, picked in newest_headlines(results, quick=quick):
        for headline in picked:
            peer = f" (against {headline.peer})" if headline.peer else ""
            rows.append(f"| `{headline.experiment}` | {headline.label}{peer} | "
                        f"{headline.text()} | `{run}` |")  # fmt: skip
    if len(rows) == 2:
        kind = "quick" if quick else "full"
        raise ConfigError(f"no {kind} run in {results} holds an experiment's results")
    return "\n".join(rows)
