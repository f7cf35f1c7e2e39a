"""Notebooks: the .py (jupytext py:percent) is the source, the .ipynb its output-free pair,
and each one runs end to end through papermill with quick parameters."""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import jupytext
import pytest

from lab.experiments import EXPERIMENTS
from lab.report.notebook_pages import execute_notebook, notebook_html
from tests.experiment_frames import SessionFrames, trimmed_settings

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))


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


#: The notebook that measures live in the tests (quick); the others open the session's run.
LIVE = "00_baseline"
LIVE_SERVICE = "redis"


def _experiment(source: Path) -> str:
    found = re.search(r'open_or_measure\("(\w+)"', source.read_text())
    assert found, f"{source.name} does not open its experiment with open_or_measure"
    return found.group(1)


def _trimmed_changes(name: str) -> dict[str, object]:
    """The test suite's trimmed settings, as the changes a notebook's parameter takes."""
    trimmed, quick = trimmed_settings(name), EXPERIMENTS[name].module("measure").quick_settings()
    return {field.name: list(value) if isinstance(value, tuple) else value
            for field in dataclasses.fields(trimmed)
            if (value := getattr(trimmed, field.name)) != getattr(quick, field.name)}  # fmt: skip


@pytest.fixture(scope="session")
def stored_run_notebooks(
    frames: SessionFrames, tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> dict[str, Future[Path]]:  # fmt: skip
    """Every notebook but the live one, run on the session's stored run two at a time (a
    kernel each: the two cores share them), started once the frames are measured."""
    stored = [source for source in NOTEBOOKS if source.stem != LIVE]
    for source in stored:
        for service in EXPERIMENTS[_experiment(source)].services:
            request.getfixturevalue(f"{service}_up")
        frames(_experiment(source))
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    request.addfinalizer(pool.shutdown)
    return {source.stem: pool.submit(execute_notebook, source, tmp_path_factory.mktemp(source.stem),
                                     {"quick": True, "run": str(frames.run.path)})
            for source in stored}  # fmt: skip


@pytest.mark.slow
@pytest.mark.alone  # the live one measures; the others read the session's frames
@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_quick_parameters(
    source: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each notebook runs end to end: the live one measures (quick), the others open the
    session's stored run of their experiment, measured once for the whole test session."""
    name = _experiment(source)
    if source.stem == LIVE:
        for service in EXPERIMENTS[name].services:
            request.getfixturevalue(f"{service}_up")
        # one server of three: the notebook measures live, and draws what it measured
        changes = {**_trimmed_changes(name), "services": [LIVE_SERVICE]}
        parameters = {"quick": True, "run": "measure", "changes": changes}
        executed = execute_notebook(source, tmp_path, parameters)
    else:
        executed = request.getfixturevalue("stored_run_notebooks")[source.stem].result()
    result = jupytext.read(executed)
    outputs = [o for c in result.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/svg+xml" in o.get("data", {}) or "image/png" in o.get("data", {})
               for o in outputs)  # fmt: skip
    # as `lab report` writes it: offline (no CDN script), figures inline, which run it
    # shows, and a sentence where JupyterLab would put the what-if sliders
    page = notebook_html(executed)
    assert "<script src=" not in page and "cdnjs" not in page and "unpkg" not in page
    assert re.search(r'<img [^>]*src="data:image/png;base64,', page)
    assert f"{name}: run " in page or f"{name}: measuring now" in page
    if "sliders(" in source.read_text():
        assert "Sliders go here when the notebook runs in JupyterLab" in page
