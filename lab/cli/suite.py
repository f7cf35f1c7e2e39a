"""``lab run``, ``lab report`` and ``lab headlines``: the suite, its report, its figures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lab.errors import ConfigError

__all__ = ["headlines_command", "report", "report_path", "run"]

console = Console()
err = Console(stderr=True)

Quick = Annotated[bool, typer.Option("--quick", help="Short durations and fewer repeats.")]
Results = Annotated[Path, typer.Option("--results", help="Folder holding one folder per run.")]
SloFile = Annotated[Path, typer.Option("--slo", help="SLO targets to evaluate.")]


def _minutes(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run(
    experiments: Annotated[list[str] | None, typer.Argument(help="Names; all when none.")] = None,
    quick: Quick = False,
    repeats: Annotated[
        int | None,
        typer.Option(
            "--repeats",
            min=1,
            help="Repeats per experiment, instead of the quick or full default; comparing two "
            "runs (lab report --compare) takes several.",
        ),
    ] = None,
    results: Results = Path("results"),
    slo: SloFile = Path("slo.yaml"),
    settings: Annotated[list[str] | None, typer.Option(
        "--set", help="EXPERIMENT.SETTING=VALUE (repeatable): change one setting of the quick "
        "or full defaults, e.g. baseline.duration_s=0.2; meta.json records it.")] = None,
) -> None:  # fmt: skip
    """Run experiments and store one CSV per experiment under results/<time>-<sha>/.
    A progress bar estimates what is left from earlier runs; each experiment's time is
    printed as it ends. Exits 1 if an experiment could not run (the others still do)."""
    from lab.experiments import resolve_names

    names = resolve_names(experiments or [])  # before the suite's imports (a second or so)

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lab.experiments.suite import estimate_seconds, parse_changes, run_suite
    from lab.harness.slo import load_slo

    load_slo(slo)  # a malformed SLO file should stop us before minutes of measuring
    changes = parse_changes(settings or [], names)
    estimates = {name: estimate_seconds(name, quick=quick, results_root=results,
                                        repeats=repeats, changes=changes.get(name))
                 for name in names}  # fmt: skip
    total = sum(estimates.values())
    done_s, current, started, suite_started = 0.0, [names[0]], [time.monotonic()], time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("starting", total=total)

        def progress(line: str) -> None:
            name, elapsed = current[0], time.monotonic() - started[0]
            here = min(elapsed, estimates[name])
            left = total - done_s - here
            position = f"{names.index(name) + 1}/{len(names)} {name}"
            bar.update(task, completed=done_s + here,
                       description=f"{position} (~{_minutes(left)} left): {line[:60]}")  # fmt: skip

        def on_done(name: str, seconds: float, error: str | None) -> None:
            nonlocal done_s
            done_s += estimates[name]
            outcome = f"did not run: {error}" if error else f"took {_minutes(seconds)}"
            bar.console.print(f"{name} {outcome} (estimate {_minutes(estimates[name])})",
                              markup=False, highlight=False)  # fmt: skip
            index = names.index(name) + 1
            if index < len(names):
                current[0], started[0] = names[index], time.monotonic()
            bar.update(task, completed=done_s)

        stored = run_suite(names, quick=quick, results_root=results, repeats=repeats,
                           changes=changes, progress=progress, on_done=on_done)  # fmt: skip
    meta = stored.meta()
    console.print(f"results: {stored.path} ({_minutes(time.monotonic() - suite_started)})")
    if meta.get("interrupted"):
        kept = ", ".join(meta["finished"]) or "nothing finished"
        err.print(f"lab: interrupted during {meta['interrupted']}; kept: {kept}",
                  markup=False)  # fmt: skip
        raise typer.Exit(130)
    if meta.get("skipped"):
        err.print(f"lab: {len(meta['skipped'])} of {len(names)} experiments did not run: "
                  f"{', '.join(meta['skipped'])}", markup=False)  # fmt: skip
        raise typer.Exit(1)


def _run_folder(value: str, results: Path) -> Path:
    for candidate in (Path(value), results / value):
        if (candidate / "meta.json").is_file():
            return candidate
    raise ConfigError(f"{value} is not a run folder (a folder with meta.json, or its name "
                      f"under {results})")  # fmt: skip


def report_path(out: Path) -> Path:
    """Where ``--out`` puts the report: a folder (existing, or a path without a suffix)
    gets ``index.html`` inside; a file must end in ``.html`` (a browser shows anything
    else as text, and the figure check then finds none)."""
    if out.is_dir() or not out.suffix:
        return out / "index.html"
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out {out}: give a folder or a file ending in .html")
    return out


def report(
    results: Results = Path("results"),
    run_dir: Annotated[str | None, typer.Option(
        "--run", help="A run folder or its name; the latest when omitted.")] = None,
    out: Annotated[Path, typer.Option(
        "--out", help="Where to write the HTML: a file ending in .html, or a folder "
        "(index.html inside).")] = Path("report/index.html"),
    slo: SloFile = Path("slo.yaml"),
    compare: Annotated[str | None, typer.Option(
        "--compare", help="An earlier run (folder or name): the change of every figure.")
    ] = None,
    fail_on_regression: Annotated[bool, typer.Option(
        help="With --compare: exit 1 when a figure regressed beyond noise.")] = False,
    benchmark_json: Annotated[list[Path] | None, typer.Option(
        help="pytest-benchmark JSON files or folders (default: .benchmarks).")] = None,
    asv_results: Annotated[Path, typer.Option(help="asv's results folder.")] = Path(
        ".asv/results"),
    screenshot: Annotated[bool, typer.Option(
        help="Check the report in headless Chromium and save its top as a PNG beside it.")
    ] = True,
    notebooks: Annotated[bool, typer.Option(
        help="Also execute each experiment's notebook on the run and write it as HTML "
        "beside the report (notebooks/<name>.html), linked from its section.")] = True,
) -> None:  # fmt: skip
    """Render a stored run into one self-contained HTML file and print the SLO verdict."""
    from lab.harness.results import Run, latest_run
    from lab.harness.slo import verdict_line
    from lab.report.build import BenchSources, build_report

    out = report_path(out)
    stored = Run(_run_folder(run_dir, results)) if run_dir else latest_run(results)
    earlier = Run(_run_folder(compare, results)) if compare else None
    sources = BenchSources(benchmark_json or [Path(".benchmarks")], asv_results)
    built = build_report(stored, slo_path=slo, out=out, compare_to=earlier, bench=sources,
                         notebooks=notebooks)  # fmt: skip
    console.print(f"report: {built.path.resolve()}")
    console.print(verdict_line(built.verdicts))
    pages = [page for page in built.notebook_pages if page.href]
    for page in built.notebook_pages:
        if page.missing:
            err.print(f"lab report: no page for the {page.experiment} notebook: {page.missing}",
                      markup=False)  # fmt: skip
    if pages:
        console.print(
            f"notebooks executed on this run: {len(pages)} pages in "
            f"{(built.path.parent / 'notebooks').resolve()}"
        )
    if screenshot:
        _check_in_browser(
            built.path, [built.path.parent / page.href for page in pages if page.href]
        )
    if built.comparison is not None:
        console.print(f"change {built.comparison.line()}")
        for change in built.comparison.changes:
            if change.beyond_noise:
                old, new = change.old, change.new
                console.print(
                    f"{change.verdict}: {new.experiment} / {new.caption[:50]} / {new.where()} / "
                    f"{new.column}: {old.value:.4g} [{old.low:.4g}-{old.high:.4g}] -> "
                    f"{new.value:.4g} [{new.low:.4g}-{new.high:.4g}]",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        if fail_on_regression and built.comparison.count("regression"):
            raise typer.Exit(1)


def _check_in_browser(html: Path, notebook_pages: list[Path]) -> None:
    from lab.harness.browser import browser_missing
    from lab.report.page_check import check_page

    missing = browser_missing()
    if missing:
        err.print(f"not checked in a browser: {missing}", markup=False)
        return
    picture = html.with_suffix(".png")
    checked = check_page(html, picture)
    for problem in checked.problems:
        err.print(f"lab: the report has a problem: {problem}", markup=False)
    for page in notebook_pages:
        for problem in check_page(page).problems:
            checked.problems.append(f"{page.name}: {problem}")
            err.print(f"lab: the notebook page {page.name} has a problem: {problem}", markup=False)
    if checked.problems:
        raise typer.Exit(1)
    pages = f" and {len(notebook_pages)} notebook pages" if notebook_pages else ""
    console.print(f"checked in Chromium ({checked.svg_figures} figures){pages}; its top: {picture}")


def headlines_command(
    results: Results = Path("results"),
    quick: Annotated[bool, typer.Option(help="From quick runs instead of full ones.")] = False,
    run_dir: Annotated[str | None, typer.Option(
        "--run", help="One run folder or its name (reference: the committed run).")] = None,
) -> None:  # fmt: skip
    """Each experiment's headline figures from its newest run (full, unless --quick), or
    from one run, as a Markdown table naming the run each came from: what the README's
    table is made of."""
    from lab.harness.results import Run
    from lab.report.headline_table import headline_markdown

    one = Run(_run_folder(run_dir, results)) if run_dir else None
    console.print(headline_markdown(results, quick=quick, run=one), markup=False,
                  highlight=False, soft_wrap=True)  # fmt: skip
