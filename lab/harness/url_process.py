"""A server in a process of its own that prints ``... http://host:port/ ...`` on its first
line: start it, yield that URL, stop it with SIGINT (then SIGKILL) on exit."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from lab.errors import ConfigError

__all__ = ["url_process"]

_URL = re.compile(r"(http://\S+/) ")


@contextmanager
def url_process(argv: Sequence[str], what: str, stop_timeout_s: float = 15.0) -> Iterator[str]:
    """Yields the URL the process printed; ``what`` names it in the error if it did not."""
    process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = _URL.search(first)
        if found is None:
            error = process.stderr.read() if process.stderr else ""
            raise ConfigError(f"{what} did not start: {(first + error).strip()}")
        yield found.group(1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=stop_timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
