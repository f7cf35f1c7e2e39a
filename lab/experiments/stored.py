"""Open an experiment's stored results the way a notebook does: the user's newest run that
holds it, else the run committed with the repository (``reference/``), so a notebook
shows figures in seconds on a fresh clone with no server running; or measure now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lab.errors import ConfigError
from lab.experiments import EXPERIMENTS
from lab.harness.results import Run, stored_runs

__all__ = ["REFERENCE", "describe_run", "newest_run_with", "open_or_measure"]

#: The full run committed with the repository (``lab report --run reference``).
REPOSITORY = Path(__file__).resolve().parents[2]
REFERENCE = REPOSITORY / "reference"


def _result_roots() -> list[Path]:
    roots = [Path.cwd() / "results", Path.cwd().parent / "results", REPOSITORY / "results"]
    return list(dict.fromkeys(root.resolve() for root in roots))  # a notebook runs in notebooks/


def newest_run_with(name: str, roots: Sequence[Path] | None = None) -> Run | None:
    """The newest run under ``roots`` (default: ``results/`` here, beside here and in the
    repository) holding ``name``'s results, else the reference run if it holds them."""
    for root in roots if roots is not None else _result_roots():
        for run in stored_runs(root):
            if run.has_frame(name):
                return run
    reference = Run(REFERENCE)
    return reference if reference.has_frame(name) else None


def describe_run(run: Run) -> str:
    """Which run a figure comes from: its folder, commit, start, settings and machine."""
    meta = run.meta()
    machine = meta.get("machine", {})
    kind = "quick" if meta.get("quick") else "full"
    where = f"{machine.get('cores', '?')} cores, {machine.get('cpu_model', 'unknown CPU')}"
    started = meta.get("started_utc", "at an unknown time")
    commit = meta.get("git_sha", "unknown")
    changed = [f"{name}.{key}={value}" for name, settings in meta.get("changes", {}).items()
               for key, value in settings.items()]  # fmt: skip
    if changed:
        kind += f" settings changed by --set {' '.join(changed)}; the others"
    return f"run {run.path.name}: commit {commit}, started {started}, {kind} settings, {where}"


def open_or_measure(
    name: str,
    *,
    run: str | Path = "newest",
    quick: bool = False,
    changes: Mapping[str, Any] | None = None,
) -> Any:
    """Experiment ``name``'s frame. ``run``: ``"newest"`` (the newest stored run holding
    it, else the reference run), ``"measure"`` (measure now, ``quick`` or full, with
    ``changes`` to the settings, against the servers), or a run's folder. Prints which
    run it shows."""
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    if run == "measure":
        changed = f", changed: {dict(changes)}" if changes else ""
        print(f"{name}: measuring now ({'quick' if quick else 'full'} settings{changed})")
        return EXPERIMENTS[name].run(quick=quick, changes=changes)
    stored = newest_run_with(name) if run == "newest" else Run(Path(run))
    if stored is None:
        raise ConfigError(f"no stored run holds {name} results: run `lab run {name} --quick`, "
                          "or set run = 'measure'")  # fmt: skip
    if not stored.has_frame(name):
        raise ConfigError(f"{stored.path} holds no {name} results: run `lab run {name}` first")
    print(f"{name}: {describe_run(stored)}")
    return stored.read_frame(name)
