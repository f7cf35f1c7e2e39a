"""A stored run as the HTML report: the SLO verdict, the headline figures and the peers,
a section per experiment (or why it is missing), the change against an earlier run, what
pytest-benchmark and asv hold for the same commit, and where it was measured."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from lab.experiments import EXPERIMENTS
from lab.harness.plots import to_svg
from lab.harness.results import Run, git_commit
from lab.harness.slo import Verdict, evaluate, load_slo
from lab.report.bench_results import BenchRow, asv_rows, pytest_benchmark_rows
from lab.report.cells import TOO_FEW, Cell, Change, cells, compare, repeats_to_judge
from lab.report.headlines import Headline, headlines
from lab.report.html import Section, render_report, write_report
from lab.report.notebook_pages import NotebookPage, render_notebook_pages

__all__ = ["BenchSources", "Comparison", "ReportBuilt", "build_report", "missing_reason"]


@dataclass(frozen=True)
class BenchSources:
    """Where to look for pytest-benchmark files and asv results of the run's commit."""

    pytest_benchmark: list[Path] = field(default_factory=lambda: [Path(".benchmarks")])
    asv_results: Path = Path(".asv/results")


@dataclass
class Comparison:
    against: str
    changes: list[Change]
    only_new: list[Cell]
    only_old: list[Cell]

    def count(self, verdict: str) -> int:
        return sum(change.verdict == verdict for change in self.changes)

    def line(self) -> str:
        verdicts = ("regression", "improvement", "changed", "within noise", TOO_FEW)
        counts = ", ".join(f"{self.count(v)} {v}" for v in verdicts if self.count(v) or
                           v != TOO_FEW)  # fmt: skip
        line = f"against {self.against}: {counts} (of {len(self.changes)} figures in both)"
        if self.count(TOO_FEW):
            need = repeats_to_judge(len(self.changes))
            line += f"; judging {len(self.changes)} figures takes {need} repeats a run"
        return line


@dataclass
class ReportBuilt:
    path: Path
    verdicts: list[Verdict]
    comparison: Comparison | None
    headlines: list[Headline]
    notebook_pages: list[NotebookPage] = field(default_factory=list)


def missing_reason(name: str, meta: dict[str, Any]) -> str:
    """Why a run has no results for an experiment."""
    skipped = meta.get("skipped", {})
    if name in skipped:
        return f"did not run: {skipped[name]}"
    if meta.get("interrupted") == name:
        return f"interrupted (Ctrl-C) before it finished: `lab run {name}` measures it"
    if name in meta.get("experiments", []):
        return "started but did not finish: the run was interrupted or failed (see `lab run`)"
    return f"not part of this run: `lab run {name}` measures it"


def _repeats(frame: pd.DataFrame) -> int | None:
    return int(frame["repeat"].nunique()) if "repeat" in frame else None


class _Found(NamedTuple):
    sections: list[Section]
    measured: dict[str, float]  # SLO metric -> value
    sources: dict[str, str]  # SLO metric -> where it was measured
    headlines: list[Headline]
    cells: list[Cell]


def _sections(run: Run, meta: dict[str, Any]) -> _Found:
    frames = run.frames()
    sections: list[Section] = []
    measured: dict[str, float] = {}
    where: dict[str, str] = {}  # the SLO metric's source, as the experiment names it
    picked: list[Headline] = []
    every: list[Cell] = []
    for name, experiment in EXPERIMENTS.items():
        frame = frames.get(name)
        if frame is None:
            sections.append(Section(name, experiment.title, experiment.question, [],
                                    missing=missing_reason(name, meta)))  # fmt: skip
            continue
        tables = experiment.tables(frame)
        sources = experiment.slo_sources()
        for metric, value in experiment.slo_metrics(frame).items():
            measured.setdefault(metric, value)  # the reference service (first) has its say
            where.setdefault(metric, f"{name}: {sources.get(metric, 'its tables')}")
        found = headlines(name, tables)
        picked.extend(found)
        every.extend(cells(name, tables))
        sections.append(Section(
            name=name, title=experiment.title, question=experiment.question, tables=tables,
            figures_svg=[to_svg(figure) for figure in experiment.figures(frame)],
            rows_measured=len(frame), reading=experiment.reading, headlines=found,
            repeats=_repeats(frame), seconds=meta.get("durations_s", {}).get(name),
        ))  # fmt: skip
    return _Found(sections, measured, where, picked, every)


def _all_cells(run: Run) -> list[Cell]:
    found = []
    for name, frame in run.frames().items():
        if name in EXPERIMENTS:
            found.extend(cells(name, EXPERIMENTS[name].tables(frame)))
    return found


def _bench(meta: dict[str, Any], sources: BenchSources) -> dict[str, tuple[list[BenchRow], str]]:
    commit = str(meta.get("git_sha") or "")
    if not commit or commit == "unknown":
        return {"pytest-benchmark": ([], "the run does not record its commit"),
                "asv": ([], "the run does not record its commit")}  # fmt: skip
    full = str(meta.get("git_sha_full") or git_commit(commit))
    return {"pytest-benchmark": pytest_benchmark_rows(sources.pytest_benchmark, commit),
            "asv": asv_rows(sources.asv_results, full)}  # fmt: skip


def _slo_spread(every: list[Cell]) -> dict[str, str]:
    """``metric -> "[min-max], N repeats"`` of the optimized service's SLO lines."""
    found = {}
    for cell in every:
        row = dict(cell.row)
        if (cell.experiment == "service" and cell.caption.startswith("Every slo.yaml line")
                and row.get("variant") == "optimized" and cell.column == "measured"):  # fmt: skip
            found[str(row["metric"])] = f"[{cell.low:.4g}-{cell.high:.4g}], {cell.runs} repeats"
    return found


def build_report(
    run: Run,
    *,
    slo_path: Path,
    out: Path,
    compare_to: Run | None = None,
    bench: BenchSources | None = None,
    notebooks: bool = False,
) -> ReportBuilt:
    """Write the report to ``out``; with ``notebooks``, each experiment's notebook executed
    on the run as a page beside it, linked from its section."""
    targets = load_slo(slo_path)
    meta = run.meta()
    meta["slo_file"] = str(slo_path)
    found = _sections(run, meta)
    pages: dict[str, NotebookPage] = {}
    if notebooks:
        measured = [section.name for section in found.sections if not section.missing]
        pages = render_notebook_pages(run, out.parent, measured)
        for index, section in enumerate(found.sections):
            if section.name in pages:
                found.sections[index] = replace(section, notebook=pages[section.name])
    verdicts = evaluate(targets, found.measured)
    comparison = None
    if compare_to is not None:
        changes, only_new, only_old = compare(_all_cells(compare_to), found.cells)
        comparison = Comparison(compare_to.path.name, changes, only_new, only_old)
    run_id = str(meta.get("run_id", run.path.name))
    html = render_report(run_id=run_id, meta=meta, sections=found.sections,
                         verdicts=verdicts, headlines=found.headlines, comparison=comparison,
                         slo_spread=_slo_spread(found.cells), slo_sources=found.sources,
                         bench=_bench(meta, bench or BenchSources()))  # fmt: skip
    return ReportBuilt(
        write_report(out, html), verdicts, comparison, found.headlines, list(pages.values())
    )
