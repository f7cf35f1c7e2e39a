"""The service experiment's ``profile`` part, its reading side: where the service's CPU
goes, from py-spy's samples of its process while it serves the target rate.

py-spy (``pip install py-spy``; it reads another process's memory, so it needs ptrace:
root, or ``kernel.yama.ptrace_scope`` 0) samples every Python thread's stack; idle
threads (waiting in the event loop's poll) are left out, so samples are CPU. Each sample
is put in the stage of its innermost frame: the code that was running. uvloop runs in C,
with no Python frame of its own: its samples show as ``Runner.run``, in the event loop's
stage with asyncio's (selectors included).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["NO_SWITCH", "STAGES", "profiled", "py_spy", "stage_samples"]

#: The ``switch`` label of a profiled run given no ``lab serve`` switch of its own.
NO_SWITCH = "none"

#: (stage, what the innermost frame's file path contains), the first match wins.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("request metrics", ("lab/patterns/monitoring",)),
    ("limiter", ("lab/patterns/limit",)),
    ("breaker and followers client", ("lab/patterns/breaker", "lab/patterns/http_client")),
    ("@cached", ("lab/patterns/caching/",)),
    ("pool", ("lab/patterns/pool", "lab/patterns/lean_pool")),
    ("service handlers", ("lab/service/",)),
    ("redis-py", ("redis/",)),
    ("asyncpg", ("asyncpg/",)),
    ("aiohttp client", ("aiohttp/client", "aiohttp/connector")),
    ("aiohttp routing and middleware chain", ("aiohttp/web_app", "aiohttp/web_urldispatcher",
                                              "aiohttp/web_middlewares")),
    ("aiohttp HTTP: parse, respond", ("aiohttp/",)),
    ("metrics exposition (scrapes)", ("prometheus_client/",)),
    ("event loop", ("asyncio/", "uvloop/", "selectors.py")),
)  # fmt: skip
OTHER = "other"

#: "function (path/to/file.py:12)": a frame as py-spy's raw format writes it.
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable beside this Python, or on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.is_file() else shutil.which("py-spy")


@contextmanager
def profiled(pid: int, duration_s: float, rate_hz: int = 100) -> Iterator[list[str]]:
    """py-spy sampling ``pid`` for ``duration_s`` while the block runs; after it, the list
    it yields holds py-spy's raw lines (``frame;frame;... count``), or one line starting
    ``error:`` saying why there are none."""
    lines: list[str] = []
    executable = py_spy()
    if executable is None:
        lines.append("error: py-spy is not installed (pip install py-spy)")
        yield lines
        return
    with tempfile.TemporaryDirectory(prefix="lab-profile-") as folder:
        out = Path(folder) / "raw.txt"
        argv = [executable, "record", "--pid", str(pid), "--rate", str(rate_hz),
                "--duration", str(max(1, round(duration_s))), "--format", "raw",
                "--nonblocking", "--output", str(out)]  # fmt: skip
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            yield lines
        finally:
            _, errors = spy.communicate(timeout=duration_s + 30)
        if spy.returncode != 0 or not out.is_file():
            reason = (errors or "").strip().splitlines()[-1:] or [f"exit {spy.returncode}"]
            lines.append(f"error: py-spy could not sample the service: {reason[0]}")
        else:
            lines.extend(out.read_text().splitlines())


def _stage(file: str) -> str:
    for stage, paths in STAGES:
        if any(path in file for path in paths):
            return stage
    return OTHER


def stage_samples(raw: list[str]) -> tuple[Counter[str], Counter[str]]:
    """Samples by stage, and by innermost function (``function (file)``), from py-spy's
    raw lines."""
    stages: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    for line in raw:
        if line.startswith("error:"):
            continue
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = _FRAME.match(stack.rsplit(";", 1)[-1])
        function, file = (leaf["function"], leaf["file"]) if leaf else (stack, "")
        stages[_stage(file)] += int(count)
        functions[f"{function} ({file})"] += int(count)
    return stages, functions
