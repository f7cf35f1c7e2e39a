"""Does a notebook really work in JupyterLab? Start JupyterLab headless on a free port,
open the notebook in headless Chromium, run every cell on a stored run, and report what
the page shows: figures rendered, error outputs, browser console errors; a PNG of the
first figure as JupyterLab drew it.

``python -m lab.harness.jupyterlab_check [--notebook 02_caching] [--run reference]
[--screenshot jupyterlab.png]`` prints what it found and exits 1 on a problem.

The notebook is copied (as ``.ipynb``, from its py:percent source) into a scratch folder
that JupyterLab serves, its ``run`` parameter set to the stored run. JupyterLab runs with
the app exposed to the page (``window.jupyterapp``), so the check runs the notebook's own
"Run All" command and reads the cells' outputs from JupyterLab's model; notebook windowing
is off, so every cell is in the page.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import ConfigError
from lab.experiments.stored import REFERENCE
from lab.harness.browser import launch_chromium
from lab.report.notebook_pages import NOTEBOOKS

__all__ = ["LabCheck", "check_in_jupyterlab", "jupyterlab_server"]

_STARTUP_S = 60.0
_RUN_ALL_S = 120.0

#: Every code cell's outputs from JupyterLab's notebook model, after "Run All".
_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = [];
  for (const cell of panel.content.model.cells) {
    if (cell.type !== 'code') continue;
    const outputs = [];
    for (let i = 0; i < cell.outputs.length; i++) {
      const output = cell.outputs.get(i).toJSON();
      outputs.push({type: output.output_type, ename: output.ename || '',
                    evalue: output.evalue || '', mimes: Object.keys(output.data || {})});
    }
    found.push({count: cell.executionCount, outputs: outputs});
  }
  return found;
}"""
_RUN_ALL = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  return await window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""
_KERNEL_IDLE = (
    "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
)
_FIGURES = ".jp-OutputArea-output img, .jp-OutputArea-output svg"


@dataclass
class LabCheck:
    """What the page showed after "Run All"."""

    cells_run: int = 0
    code_cells: int = 0
    figures: int = 0  # rendered <img>/<svg> in the output areas
    widgets: int = 0  # live ipywidgets views (the "what if" sliders)
    what_if_answered: bool = False  # the first panel's Run button drew an answer
    problems: list[str] = field(default_factory=list)
    screenshot: Path | None = None


def _settings(folder: Path) -> Path:
    """A settings folder with notebook windowing off (every cell stays in the page) and
    no news fetched from jupyter.org (the check runs offline)."""
    for plugin, settings in (
        ("notebook-extension/tracker", {"windowingMode": "none"}),
        ("apputils-extension/notification", {"fetchNews": "false"}),
    ):
        path = folder / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    return folder


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as answer:
            return int(answer.status) == 200
    except OSError:
        return False


@contextmanager
def jupyterlab_server(root: Path, scratch: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab serving ``root`` on a free 127.0.0.1 port; yields (base URL, token)."""
    from lab.experiments.service.process import free_port

    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(_settings(scratch / "settings")),
           "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}  # fmt: skip
    argv = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
            "--ServerApp.port_retries=0", "--allow-root"]  # fmt: skip
    with open(scratch / "jupyterlab.log", "w") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            began = time.monotonic()
            while not _answers(f"{base}/api/status?token={token}"):
                if process.poll() is not None or time.monotonic() - began > _STARTUP_S:
                    tail = (scratch / "jupyterlab.log").read_text()[-600:]
                    raise ConfigError(f"JupyterLab did not start on port {port}: {tail}")
                time.sleep(0.2)
            yield base, token
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _copy_with_run(source: Path, run: Path, folder: Path) -> Path:
    """``source`` as an ``.ipynb`` in ``folder``, its parameters cell pointing at ``run``."""
    import jupytext

    notebook = jupytext.read(source)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nrun = {str(run)!r}  # lab.harness.jupyterlab_check\n"
    target = folder / f"{source.stem}.ipynb"
    jupytext.write(notebook, target)
    return target


def _problems(cells: list[dict[str, Any]]) -> list[str]:
    found = []
    for index, cell in enumerate(cells):
        if cell["count"] is None:
            found.append(f"code cell {index} did not run")
        for output in cell["outputs"]:
            if output["type"] == "error":
                found.append(f"code cell {index}: {output['ename']}: {output['evalue'][:160]}")
    return found


async def _check(url: str, screenshot: Path | None) -> LabCheck:
    found = LabCheck()
    async with launch_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda message: found.problems.append(
            f"console error: {message.text}") if message.type == "error" else None)  # fmt: skip
        page.on("pageerror", lambda error: found.problems.append(f"page error: {error}"))
        await page.goto(url)
        await page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.content"
            " && window.jupyterapp.shell.currentWidget.content.model",
            timeout=_STARTUP_S * 1000,
        )
        await asyncio.wait_for(page.evaluate(_RUN_ALL), timeout=_RUN_ALL_S)
        cells = await page.evaluate(_OUTPUTS)
        found.code_cells = len(cells)
        found.cells_run = sum(cell["count"] is not None for cell in cells)
        found.problems.extend(_problems(cells))
        found.figures = await page.locator(_FIGURES).count()
        found.widgets = await page.locator(".jp-OutputArea-output .widget-interact").count()
        if found.figures == 0:
            found.problems.append("no figure rendered in any output area")
        elif screenshot is not None:
            await page.locator(_FIGURES).first.scroll_into_view_if_needed()
            await page.screenshot(path=str(screenshot))
            found.screenshot = screenshot
        if found.widgets:
            found.what_if_answered = await _press_run(page)
            if not found.what_if_answered:
                found.problems.append("the first what-if panel's Run button drew nothing")
            elif screenshot is not None:
                answer = page.locator(".jp-OutputArea-output .widget-interact").first
                await answer.locator(_FIGURES).last.scroll_into_view_if_needed()
                await page.screenshot(path=str(_what_if_png(screenshot)))
        await page.close()
    return found


def _what_if_png(screenshot: Path) -> Path:
    return screenshot.with_name(f"{screenshot.stem}-what-if.png")


async def _press_run(page: Any) -> bool:
    """Press the first what-if panel's Run button; True once an answer is drawn in it."""
    panel = page.locator(".jp-OutputArea-output .widget-interact").first
    await panel.scroll_into_view_if_needed()
    await panel.locator("button").first.click()
    answer = panel.locator(".jp-OutputArea-output")
    try:
        await answer.first.wait_for(state="visible", timeout=_RUN_ALL_S * 1000)
        await page.wait_for_function(_KERNEL_IDLE, timeout=_RUN_ALL_S * 1000)
    except Exception:  # Playwright's TimeoutError: nothing was drawn
        return False
    return True


def check_in_jupyterlab(notebook: str = "02_caching", run: Path = REFERENCE,
                        screenshot: Path | None = None) -> LabCheck:  # fmt: skip
    """Run ``notebooks/<notebook>.py`` in a headless JupyterLab on the stored ``run``."""
    source = NOTEBOOKS / f"{notebook}.py"
    if not source.is_file():
        raise ConfigError(f"no notebook {source}")
    if not (run / "meta.json").is_file():
        raise ConfigError(f"{run} is not a stored run (no meta.json)")
    with tempfile.TemporaryDirectory(prefix="lab-jupyterlab-") as folder:
        scratch = Path(folder)
        root = scratch / "notebooks"
        root.mkdir()
        copied = _copy_with_run(source, run.resolve(), root)
        with jupyterlab_server(root, scratch) as (base, token):
            url = f"{base}/lab/tree/{copied.name}?token={token}"
            return asyncio.run(_check(url, screenshot))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default="02_caching", help="a notebook's stem")
    parser.add_argument("--run", default=str(REFERENCE), help="a stored run's folder")
    parser.add_argument("--screenshot", type=Path, help="where to save the PNG")
    args = parser.parse_args(argv)
    try:
        found = check_in_jupyterlab(args.notebook, Path(args.run), args.screenshot)
    except ConfigError as error:
        print(f"jupyterlab_check: {error}", file=sys.stderr)
        return 2
    answered = "drew" if found.what_if_answered else "did not draw"
    print(f"{args.notebook}: {found.cells_run} of {found.code_cells} code cells ran; "
          f"{found.figures} figures and {found.widgets} what-if panels rendered in JupyterLab; "
          f"the first panel's Run button {answered} an answer")  # fmt: skip
    for problem in found.problems:
        print(f"problem: {problem}")
    if found.screenshot:
        print(f"screenshots: {found.screenshot} (the first figure)"
              + (f", {_what_if_png(found.screenshot)} (the what-if panel, answered)"
                 if found.what_if_answered else ""))  # fmt: skip
    return 1 if found.problems else 0


if __name__ == "__main__":
    sys.exit(main())
