"""One self-contained HTML report: SLO verdicts, a section per experiment, machine facts.

The report has no external URL: CSS is inline and every plot is an inline ``<svg>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import escape

from lab.harness.results import write_atomic
from lab.harness.slo import Verdict, verdict_line

__all__ = ["Section", "format_table", "render_report", "write_report"]


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    question: str
    tables: list[tuple[str, pd.DataFrame]]  # (caption, table)
    figures_svg: list[str] = field(default_factory=list)
    rows_measured: int = 0
    reading: str = ""
    headlines: list[Any] = field(default_factory=list)  # lab.report.headlines.Headline
    repeats: int | None = None
    seconds: float | None = None  # how long the experiment took in this run
    missing: str | None = None  # why the run has no results for it
    notebook: Any = None  # lab.report.notebook_pages.NotebookPage, when pages were asked for


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def format_table(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table with numbers rounded for reading."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lab.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def render_report(
    *,
    run_id: str,
    meta: dict[str, Any],
    sections: list[Section],
    verdicts: list[Verdict],
    headlines: list[Any] | None = None,
    comparison: Any = None,
    bench: dict[str, tuple[list[Any], str]] | None = None,
    slo_spread: dict[str, str] | None = None,
    slo_sources: dict[str, str] | None = None,
) -> str:
    """The HTML; ``headlines``, ``comparison`` (:class:`lab.report.build.Comparison`) and
    ``bench`` (rows and source per tool) are optional parts; ``slo_spread`` gives each
    SLO metric's range over the repeats, ``slo_sources`` where it was measured."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        run_id=run_id,
        meta=meta,
        sections=sections,
        verdicts=verdicts,
        verdict_line=verdict_line(verdicts),
        format_table=format_table,
        number=_cell,
        headlines=headlines or [],
        comparison=comparison,
        bench=bench or {},
        slo_spread=slo_spread or {},
        slo_sources=slo_sources or {},
    )


def write_report(path: Path, html: str) -> Path:
    write_atomic(path, html)
    return path
