"""`lab report`'s notebook pages: each experiment's notebook executed on the reported run,
written as an offline HTML page; a notebook that fails or is missing is named, and the
others still get their pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.experiments.stored import REFERENCE
from lab.harness.results import Run
from lab.report.notebook_pages import render_notebook_pages
from lab.report.page_check import check_page

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _notebook(folder: Path, stem: str, experiment: str, body: str) -> None:
    (folder / f"{stem}.py").write_text(
        "# %% tags=[\"parameters\"]\nquick = False\nrun = \"newest\"\n\n"
        f"# %%\nfrom lab.experiments.stored import open_or_measure\n"
        f"frame = open_or_measure(\"{experiment}\", run=run)\n\n# %%\n{body}\n"
    )  # fmt: skip


def test_a_failing_notebook_is_named_and_the_others_get_pages(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks, "01_fine", "loadgen", "len(frame)")
    _notebook(notebooks, "02_broken", "caching", "1 / 0")
    out = tmp_path / "report"
    pages = render_notebook_pages(Run(REFERENCE), out, ["loadgen", "caching", "database"],
                                  notebooks)  # fmt: skip
    assert pages["loadgen"].href == "notebooks/01_fine.html"
    assert (out / "notebooks" / "01_fine.html").is_file()
    assert pages["caching"].href is None and pages["caching"].missing is not None
    assert "02_broken.py failed" in pages["caching"].missing
    assert "ZeroDivisionError" in pages["caching"].missing
    assert not (out / "notebooks" / "02_broken.html").exists()
    assert pages["database"].missing is not None and "no notebook" in pages["database"].missing


@pytest.mark.usefixtures("chromium")
def test_a_page_opens_offline_with_its_figures_and_no_live_widget(tmp_path: Path) -> None:
    """The load-testing notebook (a figure and a what-if panel) as the report writes it."""
    pages = render_notebook_pages(Run(REFERENCE), tmp_path, ["loadgen"], NOTEBOOKS)
    assert pages["loadgen"].href is not None
    page = tmp_path / pages["loadgen"].href
    html = page.read_text()
    assert "<script src=" not in html and "cdnjs" not in html and "unpkg" not in html
    assert "Sliders go here when the notebook runs in JupyterLab" in html
    assert "loadgen: run reference: commit" in html  # the page says which run it shows
    checked = check_page(page)
    assert checked.problems == []
    assert re.search(r'<img [^>]*src="data:image/png;base64,', html)  # its figure, inline
