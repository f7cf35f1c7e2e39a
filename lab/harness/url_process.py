"""A server in a process of its own that prints ``... http://host:port/ ...`` on its first
line: start it, yield that URL, stop it with SIGTERM (then SIGKILL) on exit.

SIGTERM, not SIGINT: a process started from a shell script's background job inherits
SIGINT as ignored, and would only stop at the SIGKILL after ``stop_timeout_s``."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from lab.errors import ConfigError

__all__ = ["url_process"]

_URL = re.compile(r"(https?://\S+/) ")


@contextmanager
def url_process(argv: Sequence[str], what: str, stop_timeout_s: float = 15.0,
                env: Mapping[str, str] | None = None) -> Iterator[str]:  # fmt: skip
    """Yields the URL the process printed; ``what`` names it in the error if it did not.
    ``env`` is added to this process's environment."""
    # stderr goes to a file: a pipe nobody reads fills up and stalls a chatty server.
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=errors,
                                   text=True, env={**os.environ, **(env or {})})  # fmt: skip
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            found = _URL.search(first)
            if found is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=stop_timeout_s)
                errors.seek(0)
                raise ConfigError(f"{what} did not start: {(first + errors.read()).strip()}")
            yield found.group(1)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.communicate(timeout=stop_timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
