"""Notebooks: the .py (jupytext py:percent) is the source, the .ipynb its output-free pair,
and each one runs end to end through papermill with quick parameters."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import jupytext
import pytest

from lab.experiments import EXPERIMENTS
from lab.report.notebook_pages import execute_notebook, notebook_html
from tests.experiment_frames import trimmed_settings
from tests.notebook_runs import LIVE, NOTEBOOKS, StoredRunNotebooks, experiment_of


def _sources(notebook: object) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_is_in_sync_and_has_no_outputs(source: Path) -> None:
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"run `jupytext --sync {source}`"
    ipynb = jupytext.read(paired)
    assert _sources(ipynb) == _sources(jupytext.read(source)), f"run `jupytext --sync {source}`"
    for cell in ipynb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_every_notebook_has_a_parameters_cell_with_quick() -> None:
    assert NOTEBOOKS
    for source in NOTEBOOKS:
        cells = jupytext.read(source).cells
        parameters = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
        assert len(parameters) == 1 and "quick" in parameters[0].source


LIVE_SERVICE = "redis"


def _trimmed_changes(name: str) -> dict[str, object]:
    """The test suite's trimmed settings, as the changes a notebook's parameter takes."""
    trimmed, quick = trimmed_settings(name), EXPERIMENTS[name].module("measure").quick_settings()
    return {field.name: list(value) if isinstance(value, tuple) else value
            for field in dataclasses.fields(trimmed)
            if (value := getattr(trimmed, field.name)) != getattr(quick, field.name)}  # fmt: skip


@pytest.mark.slow
@pytest.mark.alone  # it measures
def test_the_live_notebook_runs_with_quick_parameters(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The live notebook measures (quick, trimmed, on one server) and draws it."""
    source = next(source for source in NOTEBOOKS if source.stem == LIVE)
    name = experiment_of(source)
    for service in EXPERIMENTS[name].services:
        request.getfixturevalue(f"{service}_up")
    # one server of three: the notebook measures live, and draws what it measured
    changes = {**_trimmed_changes(name), "services": [LIVE_SERVICE]}
    _check(source, execute_notebook(source, tmp_path, {"quick": True, "run": "measure",
                                                       "changes": changes}))  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("source", [s for s in NOTEBOOKS if s.stem != LIVE],
                         ids=lambda p: p.stem)  # fmt: skip
def test_notebook_runs_on_the_stored_run(
    source: Path, stored_run_notebooks: StoredRunNotebooks, request: pytest.FixtureRequest
) -> None:
    """Each other notebook runs end to end on the session's stored run of its experiment,
    measured once for the whole test session (and started as soon as its frame was
    stored: tests/notebook_runs.py)."""
    for service in EXPERIMENTS[experiment_of(source)].services:
        request.getfixturevalue(f"{service}_up")
    _check(source, stored_run_notebooks.executed(source))


def _check(source: Path, executed: Path) -> None:
    result = jupytext.read(executed)
    outputs = [o for c in result.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {})
               for o in outputs)  # fmt: skip
    # as `lab report` writes it: offline (no CDN script), figures inline, which run it
    # shows, and a sentence where JupyterLab would put the what-if sliders
    page = notebook_html(executed)
    name = experiment_of(source)
    assert "<script src=" not in page and "cdnjs" not in page and "unpkg" not in page
    assert re.search(r'<img [^>]*src="data:image/png;base64,', page)
    assert f"{name}: run " in page or f"{name}: measuring now" in page
    if "sliders(" in source.read_text():
        assert "Sliders go here when the notebook runs in JupyterLab" in page
