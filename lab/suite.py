"""Run experiments into the result store, and turn a stored run into the HTML report."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lab.errors import ConfigError
from lab.experiments import EXPERIMENTS
from lab.harness.aio import loop_name
from lab.harness.machine import machine_facts
from lab.harness.plots import to_svg
from lab.harness.report import Section, render_report, write_report
from lab.harness.results import Run, git_short_sha, new_run
from lab.harness.services import status
from lab.harness.slo import Verdict, evaluate, load_slo

__all__ = ["build_report", "resolve_names", "run_suite"]


def resolve_names(names: Sequence[str]) -> list[str]:
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise ConfigError(
            f"unknown experiment {', '.join(unknown)}; known: {', '.join(EXPERIMENTS)}"
        )
    return list(names) or list(EXPERIMENTS)


def _servers(names: list[str]) -> dict[str, dict[str, Any]]:
    needed = sorted({s for name in names for s in EXPERIMENTS[name].services})
    return {
        row.service: {
            "endpoint": row.endpoint,
            "version": row.version,
            "started_by": row.started_by,
        }
        for row in status(needed)
    }


def run_suite(
    names: Sequence[str],
    *,
    quick: bool,
    results_root: Path,
    progress: Callable[[str], None] = lambda _: None,
    on_done: Callable[[str], None] = lambda _: None,
) -> Run:
    """Run each experiment and store its frame as soon as it finishes."""
    chosen = resolve_names(names)
    run = new_run(results_root)
    meta: dict[str, Any] = {
        "command": shlex.join(["lab", *sys.argv[1:]]) if sys.argv else "lab run",
        "experiments": chosen,
        "quick": quick,
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_sha": git_short_sha(),
        "event_loop": loop_name(),
        "machine": machine_facts(),
        "servers": _servers(chosen),
        "finished": [],
    }
    run.write_meta(meta)
    for name in chosen:
        frame = EXPERIMENTS[name].run(quick=quick, progress=progress)
        run.write_frame(name, frame)
        meta["finished"].append(name)
        meta["finished_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
        run.write_meta(meta)
        on_done(name)
    return run


def build_report(run: Run, *, slo_path: Path, out: Path) -> tuple[Path, list[Verdict]]:
    targets = load_slo(slo_path)
    meta = run.meta()
    meta["slo_file"] = str(slo_path)
    sections = []
    measured: dict[str, float] = {}
    for name, frame in run.frames().items():
        experiment = EXPERIMENTS.get(name)
        if experiment is None:
            continue
        measured.update(experiment.slo_metrics(frame))
        sections.append(
            Section(
                name=name,
                title=experiment.title,
                question=experiment.question,
                tables=experiment.tables(frame),
                figures_svg=[to_svg(figure) for figure in experiment.figures(frame)],
                rows_measured=len(frame),
            )
        )
    verdicts = evaluate(targets, measured)
    html = render_report(run_id=run.path.name, meta=meta, sections=sections, verdicts=verdicts)
    return write_report(out, html), verdicts
