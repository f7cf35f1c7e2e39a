"""Each experiment's notebook executed on the run a report shows, as an HTML page beside
the report: read without a kernel, offline (no CDN script; figures inline).

The notebooks' reviewed source is ``notebooks/*.py`` (jupytext py:percent) in a source
checkout; each is written as an ``.ipynb`` in a scratch folder, executed by papermill with
``run`` set to the stored run, and rendered with nbconvert's lab template minus its CDN
scripts (``templates/notebook.html.j2``). The stored notebooks keep no outputs.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lab.harness.results import Run, write_atomic

__all__ = [
    "NOTEBOOKS",
    "QUIET_KERNEL",
    "NotebookPage",
    "execute_notebook",
    "notebook_html",
    "notebook_of",
    "render_notebook_pages",
]

#: Where a source checkout keeps the notebooks (an installed wheel has none).
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_TEMPLATE = Path(__file__).resolve().parent / "templates" / "notebook.html.j2"
#: The kernel's own log (a warning about TCP on every start) is not the report's business:
#: a failing cell is reported from its output.
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]
_KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
_OPENS = re.compile(r'open_or_measure\(\s*"(\w+)"')


@dataclass(frozen=True)
class NotebookPage:
    """One experiment's notebook page: ``href`` relative to the report, or why there is
    none (``missing``)."""

    experiment: str
    notebook: str  # the source's stem, such as "02_caching"
    href: str | None = None
    missing: str | None = None


def notebook_of(source: Path) -> str | None:
    """The experiment a notebook opens with ``open_or_measure("<name>", ...)``, if any."""
    found = _OPENS.search(source.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def _notebooks(folder: Path) -> dict[str, Path]:
    """experiment -> its notebook's py:percent source."""
    return {name: source for source in sorted(folder.glob("[0-9][0-9]_*.py"))
            if (name := notebook_of(source)) is not None}  # fmt: skip


def execute_notebook(source: Path, folder: Path, parameters: dict[str, object]) -> Path:
    """``source`` (py:percent) written as an ``.ipynb`` in ``folder`` and executed there by
    papermill with ``parameters``; the executed notebook's path. A cell that fails raises
    papermill's error, naming the cell."""
    import jupytext
    import papermill

    notebook = jupytext.read(source)
    notebook.metadata.setdefault("kernelspec", _KERNELSPEC)  # a source without a header
    unexecuted = folder / f"{source.stem}.ipynb"
    jupytext.write(notebook, unexecuted)
    executed = folder / f"{source.stem}.executed.ipynb"
    papermill.execute_notebook(
        str(unexecuted), str(executed), parameters=parameters,
        kernel_name="python3", cwd=str(folder), progress_bar=False, log_output=False,
        extra_arguments=QUIET_KERNEL,
    )  # fmt: skip
    return executed


def notebook_html(executed: Path) -> str:
    """An executed notebook as one page that opens offline."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(executed, as_version=4)  # type: ignore[no-untyped-call]
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab", template_file=str(_TEMPLATE), embed_images=True
    )
    body, _ = exporter.from_notebook_node(notebook)
    return str(body)


def _failure(error: Exception) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return (lines[-1] if lines else type(error).__name__)[:200]


def render_notebook_pages(
    run: Run, out_folder: Path, experiments: list[str], notebooks: Path = NOTEBOOKS
) -> dict[str, NotebookPage]:
    """Execute the notebook of each of ``experiments`` the run holds on ``run`` and write
    it as ``<out_folder>/notebooks/<stem>.html``; a notebook that fails or is missing gets
    a page entry saying why, and the others go on."""
    found = _notebooks(notebooks) if notebooks.is_dir() else {}
    pages: dict[str, NotebookPage] = {}
    with tempfile.TemporaryDirectory(prefix="lab-report-notebooks-") as scratch:
        for name in experiments:
            source = found.get(name)
            if source is None:
                pages[name] = NotebookPage(name, "", missing=f"no notebook in {notebooks} "
                                           "opens it (a source checkout has them)")  # fmt: skip
                continue
            if not run.has_frame(name):
                continue
            try:
                executed = execute_notebook(source, Path(scratch), {"run": str(run.path.resolve())})
                html = notebook_html(executed)
            except Exception as error:  # a failed cell: the page says which, the rest go on
                failed = f"{source.name} failed: {_failure(error)}"
                pages[name] = NotebookPage(name, source.stem, missing=failed)
                continue
            write_atomic(out_folder / "notebooks" / f"{source.stem}.html", html)
            pages[name] = NotebookPage(name, source.stem, href=f"notebooks/{source.stem}.html")
    return pages
