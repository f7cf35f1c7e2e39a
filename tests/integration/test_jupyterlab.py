"""JupyterLab really works: a headless JupyterLab on a free port, a notebook opened in
headless Chromium, "Run All" on the committed reference run, a what-if panel's Run
button pressed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.experiments.stored import REFERENCE
from lab.harness.jupyterlab_check import check_in_jupyterlab


@pytest.mark.usefixtures("chromium")
def test_a_notebook_runs_in_jupyterlab_and_draws_its_figures(tmp_path: Path) -> None:
    picture = tmp_path / "jupyterlab.png"
    found = check_in_jupyterlab("02_caching", REFERENCE, picture)
    assert found.problems == []  # no error output, no console or page error
    assert found.code_cells > 0 and found.cells_run == found.code_cells
    assert found.figures >= 3  # the cost, stampede and hit-ratio figures at least
    assert found.widgets == 1 and found.what_if_answered
    assert picture.read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "jupyterlab-what-if.png").read_bytes().startswith(b"\x89PNG")
