"""`lab report`'s notebook pages: a notebook that fails or is missing is named, and the
others still get their pages. (Each page's content is checked where the notebooks run,
tests/integration/test_notebooks.py; one page in Chromium, test_run_and_report.py.)"""

from __future__ import annotations

from pathlib import Path

from lab.experiments.stored import REFERENCE
from lab.harness.results import Run
from lab.report.notebook_pages import render_notebook_pages


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
