"""How long each notebook takes to run on a stored run, headless, with no server:
``python -m lab.harness.notebook_times [--run reference] [--repeats 3]``.

Each notebook (``notebooks/*.py``, the reviewed source) is written as an ``.ipynb`` in a
folder of its own and executed by papermill with ``run`` pointing at the stored run; the
time is papermill's wall time, kernel start included. It prints a Markdown table: the
median over the repeats with [min-max], the slowest cell of any repeat (a "what if"
cell's answer time is at most that), and each notebook's failure if it had one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lab.report.notebook_pages import NOTEBOOKS, execute_notebook

__all__ = ["main", "time_notebook"]


def time_notebook(source: Path, run: Path) -> tuple[float, float]:
    """Seconds papermill took to run ``source`` on the stored ``run``, and the slowest
    cell's seconds (papermill records each cell's)."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="lab-notebook-") as folder:
        began = time.perf_counter()
        executed = execute_notebook(source, Path(folder), {"run": str(run)})
        took = time.perf_counter() - began
        cells = nbformat.read(executed, as_version=4).cells  # type: ignore[no-untyped-call]
        slowest = max(float(cell.metadata.get("papermill", {}).get("duration") or 0.0)
                      for cell in cells)  # fmt: skip
        return took, slowest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="reference", help="a stored run's folder")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    run = Path(args.run).resolve()
    if not (run / "meta.json").is_file() or args.repeats < 1:
        print(f"notebook_times: {args.run} is not a stored run (no meta.json), or "
              f"--repeats is below 1", file=sys.stderr)  # fmt: skip
        return 2
    print(f"| notebook | seconds, median [min-max] of {args.repeats} | slowest cell, s (largest) "
          "| |\n|---|---|---|---|")  # fmt: skip
    for source in sorted(NOTEBOOKS.glob("*.py")):
        times, cells, failure = [], [], ""
        for _ in range(args.repeats):
            try:
                took, slowest = time_notebook(source, run)
                times.append(took)
                cells.append(slowest)
            except Exception as error:  # a failed cell: say which notebook, go on
                failure = str(error).strip().splitlines()[-1][:120] if str(error) else "failed"
                break
        spread = (f"{statistics.median(times):.1f} [{min(times):.1f}-{max(times):.1f}]"
                  if times and not failure else "")  # fmt: skip
        cell = f"{max(cells):.2f}" if cells and not failure else ""
        print(f"| `{source.stem}` | {spread} | {cell} | {failure} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
